"""The link methods of agent.forms: forms.list, forms.get, forms.save (docs/protocol.md 12).

Parameters are strict models like every link method's (agent/rpc.py), so wrong types, unknown
keys and oversized answers are ``invalid_params`` before any SQL runs. Question names are
checked before the values, so an error message only ever names a question in the form's own
spelling and never repeats anything else that was sent.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator

from agent.forms.definition import MAX_ANSWER_CHARS, MAX_CHOICES, MAX_FIELDS
from agent.forms.service import FormService
from agent.rpc import DomainContext, MethodTable, NoParams, Params, SmallId
from protocol.aio import Request

_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def _answer_names(value: object) -> object:
    if isinstance(value, dict):
        if len(value) > MAX_FIELDS:
            raise ValueError(f"at most {MAX_FIELDS} answers")
        if not all(isinstance(name, str) and _NAME.fullmatch(name) for name in value):
            raise ValueError("each answer's name must be a question's name from the form")
    return value


def _answer_value(value: object) -> object:
    # One plain message per shape, instead of pydantic's one per member of the union.
    items: list[object] = list(value) if isinstance(value, list) else [value]
    texts = [item for item in items if isinstance(item, str)]
    if len(texts) != len(items):
        raise ValueError("must be text, or a list of texts for a multiple-choice question")
    if len(items) > MAX_CHOICES:
        raise ValueError(f"must list at most {MAX_CHOICES} choices")
    if any(len(text) > MAX_ANSWER_CHARS for text in texts):
        raise ValueError(f"must be at most {MAX_ANSWER_CHARS} characters")
    return value


AnswerValue = Annotated[str | list[str], BeforeValidator(_answer_value)]
Answers = Annotated[dict[str, AnswerValue], BeforeValidator(_answer_names)]


class AssignmentParams(Params):
    assignment_id: SmallId


class SaveParams(Params):
    assignment_id: SmallId
    answers: Answers
    submit: bool


def link_methods(context: DomainContext) -> MethodTable:
    forms = FormService(context.db, context.clock, context.zone, lookups=context.store)
    callers = context.callers

    async def list_forms(request: Request, params: NoParams) -> Any:
        return await forms.list_for_patient(await callers.caller_for(request))

    async def get_form(request: Request, params: AssignmentParams) -> Any:
        return await forms.get(await callers.caller_for(request), params.assignment_id)

    async def save_form(request: Request, params: SaveParams) -> Any:
        return await forms.save(
            await callers.caller_for(request),
            params.assignment_id,
            params.answers,
            params.submit,
            request.idempotency_key,
        )

    return {
        "forms.list": (NoParams, list_forms),
        "forms.get": (AssignmentParams, get_form),
        "forms.save": (SaveParams, save_form),
    }
