"""Every hand-kept field number and enum value matches agent.proto's descriptors."""

from stallwatch_proto import agent_pb2

from . import agent_fields


def test_every_field_number_matches_the_proto():
    checked = 0
    for message_name, holder in vars(agent_fields).items():
        if not isinstance(holder, type):
            continue
        descriptor = getattr(agent_pb2, message_name).DESCRIPTOR
        for constant, number in vars(holder).items():
            if constant.startswith("_"):
                continue
            field = descriptor.fields_by_name[constant.lower()]
            assert field.number == number, f"{message_name}.{constant.lower()}"
            checked += 1
    assert checked >= 30


def test_every_enum_value_matches_the_proto():
    for name in (
        "SESSION_STATE_PROCESSING",
        "SESSION_STATE_CANCELLING",
        "COMMAND_OUTCOME_FAILED",
        "COMMAND_OUTCOME_PROCESS_KILLED",
    ):
        assert getattr(agent_fields, name) == getattr(agent_pb2, name), name
