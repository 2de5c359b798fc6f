"""Online booking: pure slot computation (slots.py) and the transactional service."""
