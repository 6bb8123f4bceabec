"""Which function a frame is calling, read from its bytecode: the native leaf of a stack.

A thread blocked in C code (a socket read, `re`, `time.sleep`) shows only
the Python frame that called it, standing on a CALL instruction. The
profile names the callee too ("recv_into", as py-spy shows it), because
that is where the time goes. The callee is found by replaying the line's
bytecode up to that CALL with a symbolic stack that tracks only names
(LOAD_GLOBAL, LOAD_METHOD, LOAD_ATTR, LOAD_NAME, LOAD_FAST ...); every
other instruction moves the stack by its net effect. Anything the replay
cannot follow (a jump, an unknown shape) gives no name rather than a wrong
one. Results are cached per (code, instruction offset).
"""

import dis
from types import CodeType
from typing import Dict, List, Optional, Tuple

_CALL = dis.opmap.get("CALL")
_NAMED_LOADS = {"LOAD_GLOBAL", "LOAD_NAME", "LOAD_FAST", "LOAD_DEREF", "LOAD_CLASSDEREF"}
_MAX_CACHE = 20_000

_callee: Dict[Tuple[CodeType, int], Optional[str]] = {}
_instructions: Dict[CodeType, List[dis.Instruction]] = {}


def callee(code: CodeType, lasti: int) -> Optional[str]:
    """The name of the function the frame calls at offset `lasti`, or None."""
    key = (code, lasti)
    if key in _callee:
        return _callee[key]
    try:
        name = _replay(code, lasti)
    except Exception:  # noqa: BLE001 - bytecode we do not understand names nothing
        name = None
    if len(_callee) >= _MAX_CACHE:
        _callee.clear()
        _instructions.clear()
    _callee[key] = name
    return name


def _replay(code: CodeType, lasti: int) -> Optional[str]:
    if _CALL is None:
        return None  # not CPython 3.11's calling sequence
    instructions = _instructions.get(code)
    if instructions is None:
        instructions = list(dis.get_instructions(code))
        _instructions[code] = instructions
    at = next((i for i, ins in enumerate(instructions) if ins.offset == lasti), None)
    if at is None or instructions[at].opcode != _CALL:
        return None
    start = at
    while start > 0 and instructions[start].starts_line is None:
        start -= 1
    stack: List[Optional[str]] = []
    for ins in instructions[start:at]:
        op = ins.opname
        if op == "LOAD_GLOBAL":
            if ins.arg is not None and ins.arg & 1:
                stack.append(None)  # the NULL pushed before a global callable
            stack.append(str(ins.argval))
        elif op in _NAMED_LOADS:
            stack.append(str(ins.argval))
        elif op == "LOAD_METHOD":
            if not stack:
                return None
            stack[-1] = str(ins.argval)  # [method, self]
            stack.append("self")
        elif op == "LOAD_ATTR":
            if not stack:
                return None
            stack[-1] = str(ins.argval)
        elif op in ("PRECALL", "KW_NAMES", "NOP", "CACHE"):
            pass  # 3.11 splits a call in PRECALL n (no move here) and CALL n
        elif op == "CALL":
            # [NULL or method, callable or self, n arguments] -> [result]
            if len(stack) < (ins.arg or 0) + 2:
                return None
            del stack[len(stack) - (ins.arg or 0) - 2 :]
            stack.append(None)
        elif "JUMP" in op or op in ("RETURN_VALUE", "RAISE_VARARGS", "RERAISE"):
            return None
        else:
            has_arg = ins.opcode >= dis.HAVE_ARGUMENT
            effect = dis.stack_effect(ins.opcode, ins.arg if has_arg else None)
            if effect < 0:
                if len(stack) < -effect:
                    return None
                del stack[effect:]
            else:
                stack.extend([None] * effect)
    n = instructions[at].arg or 0
    if len(stack) < n + 2:
        return None
    target = stack[-(n + 2)] or stack[-(n + 1)]
    return target if target not in (None, "self") else None
