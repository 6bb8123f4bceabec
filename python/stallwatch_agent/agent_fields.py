"""Field numbers and enum values of proto/stallwatch/v1/agent.proto that the
helper process reads or writes by hand (pbwire.py). Only those: everything
else passes through as bytes. agent_fields_test.py checks every number here
against the generated descriptors, so a change to agent.proto that moves one
fails the tests instead of corrupting the stream.
"""


class ConnectRequest:
    ANNOUNCE = 1
    STATUS = 2
    COMMAND_RESULT = 3
    PROFILE_RESULT = 4


class ConnectResponse:
    STATUS_REQUEST = 1
    COMMAND = 2


class StatusRequest:
    REQUEST_ID = 1
    INCLUDE_THREADS = 2


class StatusReport:
    REQUEST_ID = 1
    SESSIONS = 2
    DUMP = 4
    ERROR = 5


class Session:
    SESSION_ID = 1
    STATE = 2
    THREAD_ID = 9


class ThreadDump:
    TAKEN_AT_MS = 1
    COST_MICROS = 2
    THREADS = 3


class Thread:
    THREAD_ID = 1
    NAME = 2
    STATE = 3
    FRAMES = 4
    SESSION_ID = 5


class Command:
    COMMAND_ID = 1
    CANCEL_SESSION = 2
    START_PROFILE = 3
    KILL_WORKER = 4


class KillWorker:
    REASON = 1
    GRACE_MS = 2


class CancelSession:
    GRACE_MS = 3


class StartProfile:
    DURATION_MS = 2


class CommandResult:
    COMMAND_ID = 1
    OUTCOME = 2
    MESSAGE = 3
    TOOK_MS = 4


class ProfileResult:
    COMMAND_ID = 1
    ERROR = 2
    PARTIAL = 10
    PARTIAL_REASON = 11
    INTERIM = 14


# Enum values -------------------------------------------------------------------

SESSION_STATE_PROCESSING = 3
SESSION_STATE_CANCELLING = 5
COMMAND_OUTCOME_FAILED = 5
COMMAND_OUTCOME_PROCESS_KILLED = 6
