from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

# Names of packages and datasets end up in paths, zip names and URLs.
name_characters = RegexValidator(
    r"^[A-Za-z][A-Za-z0-9_-]{0,79}$",
    _("Use letters, digits, - and _, starting with a letter (at most 80)."),
)
