"""The base of every admin model view: types SQLModel uses, CSRF, access and row scoping.

* SQLModel maps `str` to `AutoString` and we store instants as `UTCDateTime`; both are
  TypeDecorators Flask-Admin does not know, so their columns would silently vanish from
  forms and break `column_filters`. The converters below treat them as String/DateTime
  (and attach UTC to what a facilitator types, since `UTCDateTime` refuses naive values).
* `form_base_class = SecureForm`: every create/edit/delete/action form carries a CSRF token.
* Access: only signed-in facilitators; `admin_only` views only for role admin.
* Rows: `get_query`, `get_count_query` and `get_one` (details, edit, delete) all go through
  `scope_clause`, which each concrete view overrides to say how its model reaches
  `program_id` (`via_participant` for models that hang off a participant). The default
  matches nothing, so a view that forgets is empty, not leaky. Out-of-scope and unknown
  ids both answer 404. `get_one` assumes an integer `id` primary key.
* Numbers in the URL are read as plain ASCII digits within what the database holds
  (service/core/numbers.py), never with `int()`: an id that is not one ('²', '-1', beyond
  2^31 - 1) is 404 like an unknown one; a page, page size, sort or `desc` that is not one is
  ignored (the first page, the default size and order); a filter whose value no integer
  column can hold is dropped with the usual "invalid filter value" message, as is one
  longer than `MAX_FILTER_VALUE`; a search is cut to `MAX_SEARCH` characters.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import abort, flash, g, redirect, request, url_for
from flask_admin import BaseView
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.form import DateTimeField, SecureForm
from flask_admin.model import filters, typefmt
from flask_admin.model.form import converts
from flask_login import current_user
from markupsafe import Markup

from admin.times import local
from service.core.local_time import UTC_NAME, utc_title
from service.core.numbers import fits_integer_column, whole_number
from service.models import Participant
from service.program import accounts
from service.services import current

MAX_PAGE = 10**6  # times the largest page size, still an offset every database takes
MAX_SEARCH = 200  # characters of a search (each word becomes a LIKE over every column)
MAX_FILTER_VALUE = 1000


def as_utc(value):
    """A naive datetime typed into a form or filter is read as UTC."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def format_datetime(view, value, name) -> Markup:
    """An instant in the signed-in facilitator's own zone, in words; UTC in the tooltip."""
    tz = getattr(current_user, "timezone", None) or UTC_NAME
    shown = local(value, tz, current().now())
    return Markup('<time title="{}">{}</time>').format(utc_title(value), shown)


class UTCDateTimeField(DateTimeField):
    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.data = as_utc(self.data)


class ModelConverter(AdminModelConverter):
    @converts("sqlmodel.sql.sqltypes.AutoString")
    def conv_autostring(self, column, field_args, **extra):
        return self.conv_String(column=column, field_args=field_args, **extra)

    @converts("service.models.UTCDateTime")
    def conv_utcdatetime(self, field_args, **extra):
        return UTCDateTimeField(**field_args)


class _UTCClean:
    def clean(self, value):
        cleaned = super().clean(value)
        return [as_utc(v) for v in cleaned] if isinstance(cleaned, list) else as_utc(cleaned)


UTC_DATETIME_FILTERS = tuple(
    type(f"UTC{base.__name__}", (_UTCClean, base), {})
    for base in (
        sqla_filters.DateTimeEqualFilter,
        sqla_filters.DateTimeNotEqualFilter,
        sqla_filters.DateTimeGreaterFilter,
        sqla_filters.DateTimeSmallerFilter,
        sqla_filters.DateTimeBetweenFilter,
        sqla_filters.DateTimeNotBetweenFilter,
    )
) + (sqla_filters.FilterEmpty,)


class FilterConverter(sqla_filters.FilterConverter):
    @filters.convert("autostring")
    def conv_autostring(self, column, name, **kwargs):
        return self.conv_string(column, name, **kwargs)

    @filters.convert("utcdatetime")
    def conv_utcdatetime(self, column, name, **kwargs):
        return [f(column, name, **kwargs) for f in UTC_DATETIME_FILTERS]


def visible_program_ids(db) -> set[int] | None:
    """The signed-in facilitator's programs (None: all), computed once per request."""
    if "realign_program_ids" not in g:
        g.realign_program_ids = accounts.visible_program_ids(db, current_user)
    return g.realign_program_ids


def via_participant(column, program_ids) -> sa.ColumnElement[bool]:
    """Scope for models that reach a program through their participant."""
    return column.in_(sa.select(Participant.id).where(Participant.program_id.in_(program_ids)))


def is_allowed(admin_only: bool) -> bool:
    if not current_user.is_authenticated:
        return False
    return not admin_only or current_user.is_admin


def deny():
    """Anonymous: to the sign-in page; signed in without the role: 403."""
    if current_user.is_authenticated:
        abort(403)
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("admin.login", next=target))


class SignedInView(BaseView):
    """A page of our own (not a model's list) for any signed-in facilitator; anonymous
    visitors go to the sign-in page."""

    def is_accessible(self) -> bool:
        return is_allowed(admin_only=False)

    def inaccessible_callback(self, name, **kwargs):
        return deny()


class ScopedModelView(ModelView):
    form_base_class = SecureForm
    model_form_converter = ModelConverter
    filter_converter = FilterConverter()
    column_type_formatters = {**typefmt.BASE_FORMATTERS, datetime: format_datetime}
    column_type_formatters_detail = {**typefmt.DETAIL_FORMATTERS, datetime: format_datetime}
    can_export = False
    can_set_page_size = True
    page_size = 50
    admin_only = False

    def __init__(self, model, db, **kwargs):
        # `db` is a plain scoped_session (see admin/setup.py); Flask-Admin 2.2 prefers a
        # Flask-SQLAlchemy object and warns about sessions. The choice is deliberate.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Passing a session object", DeprecationWarning)
            super().__init__(model, db, **kwargs)

    # Access -----------------------------------------------------------------------------

    def is_accessible(self) -> bool:
        return is_allowed(self.admin_only)

    def inaccessible_callback(self, name, **kwargs):
        return deny()

    # Row scoping ------------------------------------------------------------------------

    def scope_clause(self, program_ids: set[int]) -> sa.ColumnElement[bool]:
        """How a row of this model belongs to one of `program_ids`. Override per view."""
        return sa.false()

    def scoped(self, query):
        ids = visible_program_ids(self.session)
        return query if ids is None else query.filter(self.scope_clause(ids))

    def get_query(self):
        return self.scoped(super().get_query())

    def get_count_query(self):
        return self.scoped(super().get_count_query())

    def get_one(self, id):
        """The row by primary key, only when in scope: 404 otherwise (and for unknown ids)."""
        pk = id if isinstance(id, int) and not isinstance(id, bool) else whole_number(id)
        if pk is None or not fits_integer_column(pk):
            abort(404)
        row = self.get_query().filter(self.model.id == pk).one_or_none()
        if row is None:
            abort(404)
        return row

    # What the list page reads from its URL ------------------------------------------------

    def _get_list_extra_args(self):
        args = super()._get_list_extra_args()
        args.page = whole_number(request.args.get("page"), maximum=MAX_PAGE) or 0
        args.page_size = whole_number(request.args.get("page_size")) or 0
        args.sort = whole_number(request.args.get("sort"))
        args.sort_desc = bool(whole_number(request.args.get("desc")))
        args.search = (args.search or "")[:MAX_SEARCH] or None
        return args

    def _get_list_filter_args(self):
        """Flask-Admin's own reading of `flt<position>_<filter>=value`, with the limits above."""
        if not self._filters:
            return None
        found = []
        for arg, value in request.args.items():
            position, sep, key = arg[3:].partition("_")
            if not arg.startswith("flt") or not sep or key not in self._filter_args:
                continue
            idx, flt = self._filter_args[key]
            readable = len(value) <= MAX_FILTER_VALUE and flt.validate(value)
            if readable and fits_integer_column(flt.clean(value)):
                found.append((whole_number(position) or 0, (idx, str(flt.name), value)))
                continue
            flash(self.get_invalid_value_msg(value[:40], flt), "error")
        return [pair for _, pair in sorted(found, key=lambda f: f[0])]
