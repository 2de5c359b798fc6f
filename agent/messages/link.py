"""The link methods of secure messages (docs/protocol.md section 12, "Messages, forms and
records"). Each one finds the session's patient, then asks the MessageService; the service
scopes every query to that patient."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from agent.messages.service import MessageService
from agent.messages.start import MessageRules
from agent.rpc import DomainContext, MethodTable, NoParams, Params, SmallId
from protocol.aio import Request

# Generous on purpose: the 5,000-character rule is checked after trimming by the service,
# with a message that says so; this only stops absurd input before any work is done.
RawBody = Annotated[str, Field(max_length=50_000)]


class ThreadParams(Params):
    thread_id: SmallId
    # False when the proxy cannot tell the patient meant to open the thread (a link from
    # another site): the messages are shown but stay unread. Strict: only true or false.
    mark_read: bool = True


class ReplyParams(Params):
    thread_id: SmallId
    body: RawBody


class AttachmentParams(Params):
    attachment_id: SmallId


class UploadParams(Params):
    """One file the patient attaches: its name and its bytes in base64. Generous bounds; the
    service checks the name, the type, the first bytes and the 3 MiB size with clear words."""

    filename: Annotated[str, Field(max_length=1000)]
    data: Annotated[str, Field(max_length=8_000_000)]


class StartParams(Params):
    topic: Annotated[str, Field(max_length=1000)]
    subject: Annotated[str, Field(max_length=5000)]
    body: RawBody
    attachment: UploadParams | None = None


def build_service(context: DomainContext) -> MessageService:
    return MessageService(
        context.db,
        context.clock,
        context.zone,
        practice_name=context.config.practice.name,
        notice=context.mail.new_message_notice,
        lookups=context.store,
        rules=MessageRules(
            patients_can_start=context.config.messages.patients_can_start,
            topics=context.config.messages.topics,
        ),
    )


def link_methods(context: DomainContext) -> MethodTable:
    service = build_service(context)
    callers = context.callers

    async def unread_count(request: Request, params: NoParams) -> Any:
        return await service.unread_count(await callers.caller_for(request))

    async def list_threads(request: Request, params: NoParams) -> Any:
        return await service.list_threads(await callers.caller_for(request))

    async def thread(request: Request, params: ThreadParams) -> Any:
        caller = await callers.caller_for(request)
        answer = await service.thread(caller, params.thread_id, mark_read=params.mark_read)
        # The header's count as it is once this thread is read: the page needs no second
        # round trip for it (docs/performance.md).
        answer["patient_unread"] = (await service.unread_count(caller))["unread"]
        return answer

    async def reply(request: Request, params: ReplyParams) -> Any:
        return await service.reply(
            await callers.caller_for(request),
            params.thread_id,
            params.body,
            request.idempotency_key,
        )

    async def start_options(request: Request, params: NoParams) -> Any:
        await callers.caller_for(request)  # only a signed-in patient asks
        return service.start_options()

    async def start(request: Request, params: StartParams) -> Any:
        upload = params.attachment
        return await service.start(
            await callers.caller_for(request),
            topic=params.topic,
            subject=params.subject,
            body=params.body,
            filename=upload.filename if upload else None,
            data_base64=upload.data if upload else None,
            idempotency_key=request.idempotency_key,
        )

    async def attachment(request: Request, params: AttachmentParams) -> Any:
        return await service.attachment(await callers.caller_for(request), params.attachment_id)

    return {
        "messages.unread_count": (NoParams, unread_count),
        "messages.list": (NoParams, list_threads),
        "messages.thread": (ThreadParams, thread),
        "messages.reply": (ReplyParams, reply),
        "messages.start_options": (NoParams, start_options),
        "messages.start": (StartParams, start),
        "messages.attachment": (AttachmentParams, attachment),
    }
