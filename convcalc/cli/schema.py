"""`convcalc schema`: the JSON Schema of spec files, for editors."""

from convcalc.cli.common import emit


def schema() -> None:
    """The JSON Schema of spec files, for editors (README: Editor support): convcalc schema > convcalc.schema.json"""
    from convcalc.spec.schema import schema_text

    emit(schema_text())
