"""The texts editor of a program: every text a participant reads, by step, in each language.

* Each text has a title and when it is sent (admin/text_guide.py). The standard wording is
  shown as it is, read-only; "Customise" opens a box with it to change, "Back to default"
  empties the box again. An empty box means the standard text; anything else is checked
  with `texts.validate_override`, and nothing is saved while a box has a problem, which is
  shown beside it.
* The preview is each text as one of the program's participants would read it (the picker
  chooses whom; test personas are never offered; sample names when there is nobody yet),
  filled in by `texts.render`, the rule the sender uses: embedded in the page, and asked
  again from `preview/` (JSON) as the facilitator types.
* "Text me this" sends the text as previewed to the facilitator's own phone through the
  outbox and the real gateway, once per click (a nonce), written to the audit log.
* The page's script (admin/static/realign/texts_editor.js) opens and closes the boxes,
  asks for previews, sends the tests and counts unsaved changes on the sticky save bar;
  the segment counter is admin/static/realign/segments.js.
"""

from __future__ import annotations

import uuid

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from admin.i18n import _
from admin.text_guide import GROUPS, GUIDE
from service import records
from service.core import text_preview, texts
from service.core.enums import Language, ProgramStatus, label
from service.core.numbers import whole_number
from service.core.text_preview import Preview
from service.models import Facilitator, Program
from service.program import text_preview as whose
from service.program.text_trial import NotSent, text_me
from service.services import current
from service.unit_of_work import UnitOfWork


def field_id(key: str, lang: str) -> str:
    return f"text-{key}-{lang}"


def posted_drafts() -> dict[str, dict[str, str]]:
    """The program's own wordings in the form sent: {key: {lang: text}}, standard ones left out."""
    drafts: dict[str, dict[str, str]] = {}
    for key in texts.TEMPLATES:
        for lang in texts.LANGUAGES:
            text = text_preview.clean(request.form.get(field_id(key, lang), ""))
            if text_preview.is_customised(key, lang, text):
                drafts.setdefault(key, {})[lang] = text
    return drafts


def masked(phone: str | None) -> str:
    return f"•••{(phone or '')[-2:]}"


class TextsEditor:
    """The texts pages of ProgramView (mixed in: `get_one` scopes the program)."""

    def _person(self, program: Program, wanted):
        return whose.chosen(self.session, program, whole_number(wanted or ""))

    def _values(self, program: Program, person) -> dict[str, dict]:
        return {lang: whose.values(self.session, program, person, lang) for lang in texts.LANGUAGES}

    @expose("/texts/", methods=("GET", "POST"))
    def texts_view(self):
        program = self.get_one(request.args.get("id"))
        person = self._person(program, request.values.get("participant"))
        saved = {k: dict(v) for k, v in (program.text_overrides or {}).items()}
        drafts = saved
        if request.method == "POST":
            if program.status != ProgramStatus.ACTIVE:
                abort(409)
            drafts = posted_drafts()
            problems = {
                (key, lang): texts.validate_override(key, text)
                for key, langs in drafts.items()
                for lang, text in langs.items()
            }
            if any(problems.values()):
                flash(_("Nothing was saved: some texts need changes (see beside them)."), "error")
            else:
                self._save_texts(program, saved, drafts)
                return redirect(
                    url_for(".texts_view", id=program.id, participant=person and person.id)
                )
        return self._editor(program, person, saved, drafts)

    def _save_texts(self, program: Program, saved: dict, drafts: dict) -> None:
        changed = sorted(
            f"{k}.{lang}"
            for k in set(drafts) | set(saved)
            for lang in texts.LANGUAGES
            if (drafts.get(k) or {}).get(lang) != (saved.get(k) or {}).get(lang)
        )
        program.text_overrides = drafts
        records.audit(
            self.session, current_user.actor, "program.texts", program,
            now=current().now(), detail={"texts": changed},
        )  # fmt: skip
        self.session.commit()
        flash(_("Texts saved (%(count)s changed).", count=len(changed)), "success")

    def _editor(self, program: Program, person, saved: dict, drafts: dict):
        values = self._values(program, person)
        me = self.session.get(Facilitator, current_user.id)
        groups = []
        for group in GROUPS:
            items = []
            for key in group.keys:
                langs = []
                for lang in texts.LANGUAGES:
                    draft = (drafts.get(key) or {}).get(lang, "")
                    shown = text_preview.preview(key, lang, draft, values[lang])
                    langs.append(
                        {
                            "lang": lang,
                            "name": label("language", lang),
                            "fid": field_id(key, lang),
                            "default": texts.TEMPLATES[key].get(lang, ""),
                            "draft": draft,
                            "saved": key in saved and lang in saved[key],
                            "preview": shown,
                        }
                    )
                items.append(
                    {
                        "key": key,
                        "guide": GUIDE[key],
                        "placeholders": sorted(texts.placeholders(key)),
                        "variable": key in texts.VARIABLE_LENGTH,
                        "langs": langs,
                        "customised": any(row["saved"] for row in langs),
                    }
                )
            groups.append({"group": group, "texts": items})
        return self.render(
            "realign/program_texts.html",
            program=program,
            groups=groups,
            samples=texts.SAMPLE_VALUES,
            person=person,
            people=whose.people(self.session, program.id),
            nonce=uuid.uuid4().hex,
            my_phone=masked(me.phone) if me and me.phone else "",
            editable=program.status == ProgramStatus.ACTIVE,
        )

    @expose("/texts/preview/", methods=("POST",))
    def texts_preview_view(self):
        """One text as typed, as the chosen participant would read it (JSON)."""
        program = self.get_one(request.args.get("id"))
        key, lang = self._text_of_form()
        person = self._person(program, request.form.get("participant"))
        values = whose.values(self.session, program, person, lang)
        shown = text_preview.preview(key, lang, request.form.get("text", ""), values)
        return jsonify(self._shown(shown))

    @expose("/texts/test/", methods=("POST",))
    def texts_test_view(self):
        """Send one text, as typed and previewed, to the facilitator's own phone (JSON)."""
        program = self.get_one(request.args.get("id"))
        key, lang = self._text_of_form()
        nonce = request.form.get("nonce", "")
        if len(nonce) != 32 or not nonce.isalnum():
            abort(400, description=_("The form is out of date: reload the page."))
        person = self._person(program, request.form.get("participant"))
        values = whose.values(self.session, program, person, lang)
        shown = text_preview.preview(key, lang, request.form.get("text", ""), values)
        self.session.commit()  # our reads end before the unit of work's transaction
        svc = current()
        with UnitOfWork(svc) as uow:
            me = uow.session.get(Facilitator, current_user.id)
            here = uow.session.get(Program, program.id)
            try:
                text_me(uow, here, me, key, lang, shown, nonce=nonce, actor=current_user.actor)
            except NotSent as exc:
                answer = {**self._shown(shown), "sent": False}
                answer["message"] = _("Not sent: %(reason)s.", reason=_(str(exc)))
                return jsonify(answer), 422
            phone = me.phone
            uow.commit()
        answer = {**self._shown(shown), "sent": True, "nonce": uuid.uuid4().hex}
        answer["message"] = _("Sent to your phone (%(phone)s).", phone=masked(phone))
        return jsonify(answer)

    def _text_of_form(self) -> tuple[str, str]:
        key, lang = request.form.get("key", ""), request.form.get("lang", "")
        if key not in texts.TEMPLATES or lang not in Language.values():
            abort(400, description=_("There is no such text."))
        return key, lang

    @staticmethod
    def _shown(shown: Preview) -> dict:
        return {
            "text": shown.text,
            "customised": shown.customised,
            "problems": list(shown.problems),
            "segments": shown.segments,
            "encoding": shown.encoding,
        }
