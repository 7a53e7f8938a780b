"""Inbox, waiting and not delivered: the texts a facilitator answers, expects and chases.

* Inbox (`/admin/inbox/`): inbound texts no facilitator has marked read, newest first, with
  who sent them and when in their own time; "Mark read" (one, or all shown) is a POST. The
  menu shows how many are unread.
* Waiting (`/admin/inbox/waiting`): texts held for someone's waking hours, with when each
  leaves, in their time.
* Not delivered (`/admin/inbox/failed`): texts that failed or did not arrive, with the
  reason in words, and "Send again" where a second try could reach them.

Everything is scoped to the facilitator's programs (admins see all).
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from markupsafe import Markup, escape

from admin.base import SignedInView, visible_program_ids
from admin.i18n import _, n_
from admin.times import local
from service.core import delivery_reasons
from service.core.enums import NOT_TEXTED
from service.core.local_time import utc_title
from service.core.numbers import INT_MAX, whole_number
from service.core.redact import mask_phone
from service.program import inbox
from service.unit_of_work import UnitOfWork

EXCERPT = 140


class UnreadLabel(str):
    """The menu's "Inbox" with its unread count. Flask-Admin prints a menu item's name as
    given at start-up; markupsafe asks a str for `__html__` first, so this one renders
    afresh on every page, for whoever is signed in, in their language (`text` may be lazy)."""

    def __new__(cls, text, view: InboxView):
        label = super().__new__(cls, str(text))
        label.text, label.view = text, view
        return label

    def __html__(self) -> Markup:
        count = self.view.unread_count() if current_user.is_authenticated else 0
        name = escape(str(self.text))
        if not count:
            return name
        badge = Markup(' <span class="badge badge-pill badge-warning" id="unread-count">{}</span>')
        return name + badge.format(inbox.badge(count))


class InboxView(SignedInView):
    def __init__(self, db, services, **kwargs):
        super().__init__(**kwargs)
        self.db, self.services = db, services
        self.name = UnreadLabel(self.name, self)

    def unread_count(self) -> int:
        return inbox.unread_count(self.db, visible_program_ids(self.db))

    def _render(self, tab: str, rows):
        now = self.services.now()
        unread = self.unread_count()
        return self.render(
            "realign/inbox.html",
            tab=tab,
            rows=rows,
            counts={"inbox": inbox.badge(unread) if unread else ""},
            when=lambda at, p: local(at, p.timezone if p else None, now),
            exact=utc_title,
            reason=delivery_reasons.reason,
            phone=mask_phone,
            excerpt=EXCERPT,
            not_texted=NOT_TEXTED,
        )

    @expose("/")
    def index(self):
        return self._render("inbox", inbox.unread(self.db, visible_program_ids(self.db)))

    @expose("/waiting")
    def waiting(self):
        ids = visible_program_ids(self.db)
        return self._render("waiting", inbox.waiting(self.db, ids, self.services.now()))

    @expose("/failed")
    def failed(self):
        ids = visible_program_ids(self.db)
        return self._render("failed", inbox.not_delivered(self.db, ids, self.services.now()))

    @expose("/read", methods=("POST",))
    def read(self):
        ids = [n for v in request.form.getlist("message_id") if (n := whole_number(v))]
        if not ids:
            flash(_("Nothing was chosen to mark read."), "warning")
            return redirect(url_for(".index"))
        with UnitOfWork(self.services) as uow:
            done = inbox.mark_read(
                uow,
                ids,
                program_ids=visible_program_ids(self.db),
                facilitator_id=current_user.id,
            )
            uow.commit()
        flash(n_("Marked %(num)d text read.", "Marked %(num)d texts read.", done), "success")
        return redirect(url_for(".index"))

    @expose("/failed/<int:message_id>/retry", methods=("POST",))
    def retry(self, message_id: int):
        if message_id > INT_MAX:
            abort(404)
        with UnitOfWork(self.services) as uow:
            try:
                again = inbox.retry(
                    uow,
                    message_id,
                    program_ids=visible_program_ids(self.db),
                    actor=current_user.actor,
                )
            except LookupError:
                abort(404)
            except inbox.NotRetried as why:
                flash(str(why), "warning")
                return redirect(url_for(".failed"))
            uow.commit()
        leaves = again.send_after
        if leaves is not None and leaves > self.services.now():
            flash(_("It will be sent again when their waking hours begin."), "success")
        else:
            flash(_("It is being sent again."), "success")
        return redirect(url_for(".failed"))
