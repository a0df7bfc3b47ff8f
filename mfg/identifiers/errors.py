"""Scan errors: specific, stable codes with messages a technician at the bench understands."""

from mfg.errors import MfgError
from mfg.i18n import N_


class ScanError(MfgError):
    status_code = 422
    code = "scan_error"


class BadCheckCharacter(ScanError):
    code = "bad_check_character"
    default_message = N_("The check character does not match: the code was mistyped or misread.")


class UnknownStructure(ScanError):
    code = "unknown_structure"
    default_message = N_("This is not a code the system knows.")


class BadLength(ScanError):
    code = "bad_length"
    default_message = N_("The code has the wrong number of characters.")


class ScanNotFound(ScanError):
    code = "not_found"
    status_code = 404
    default_message = N_("No record has this code.")


class Ambiguous(ScanError):
    code = "ambiguous"
    status_code = 409
    default_message = N_("This code matches more than one record; scan a more specific label.")
