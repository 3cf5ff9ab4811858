"""The main window: look a submission up, see its status, cancel its job."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from vaultgui import __version__
from vaultgui.services.archive_status import status_info
from vaultgui.services.client import VaultClient
from vaultgui.services.errors import NotFoundError, VaultError
from vaultgui.services.history import Action, HistoryStore, Outcome
from vaultgui.services.models import ApiLimits, SignInResult, Submission
from vaultgui.ui.cancel_flow import RECHECK_PAUSES, CancelFlow
from vaultgui.ui.confirm_dialog import ConfirmCancelDialog
from vaultgui.ui.history_view import HistoryView
from vaultgui.ui.messages import (
    UserMessage,
    describe_error,
    details_for,
    limits_text,
)
from vaultgui.ui.recorder import HistoryRecorder
from vaultgui.ui.session_keeper import SessionKeeper
from vaultgui.ui.submission_panel import SubmissionPanel
from vaultgui.ui.tasks import Generation, spawn
from vaultgui.ui.widgets import MessageArea, busy_bar, message_box, set_names

log = logging.getLogger(__name__)

# How long a throttling or downtime notice stays in the status bar, in ms.
LIMITS_NOTICE_MS = 60_000


class MainWindow(QMainWindow):
    """Look up a submission and cancel its archive job, one call at a time.

    Emits :attr:`sign_out_requested` when the user signs out; the owner ends
    the session and shows the sign-in dialog again.
    """

    sign_out_requested = Signal()
    settings_requested = Signal()
    closed = Signal()

    def __init__(
        self,
        client: VaultClient,
        session: SignInResult,
        history: HistoryStore | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        set_names(self, "mainWindow")
        self.client = client
        self.session = session
        self.recheck_pauses = RECHECK_PAUSES
        self._generation = Generation()
        self._task: asyncio.Task[None] | None = None
        self._cancel_flow: CancelFlow | None = None
        self._confirm_dialog: ConfirmCancelDialog | None = None
        # Cancels whose result is unknown (stopped or unclear), by submission id,
        # with the local time they were sent, so a second send is never casual.
        self._unclear_cancels: dict[str, str] = {}
        self._close_question: QMessageBox | None = None
        self._closing_confirmed = False

        self.keeper = SessionKeeper(client, self)
        self.keeper.limits_changed.connect(self._show_limits)
        self.recorder = HistoryRecorder(
            history,
            vault_dns=client.address.netloc,
            vault_username=session.username,
            parent=self,
        )

        self.setWindowTitle(
            self.tr("vaultgui — {vault}").format(vault=self.vault_label)
        )
        self.resize(820, 640)
        self._build(history)
        self.recorder.failed.connect(self._show_history_failure)
        self.recorder.written.connect(self.history_view.reload)
        self.submission_edit.setFocus()

    @property
    def vault_label(self) -> str:
        """Return the Vault's name with its address, as shown to the user."""
        name = self.session.vault_name or self.client.address.host
        return f"{name} ({self.client.address.netloc})"

    # -- layout ---------------------------------------------------------------

    def _build(self, history: HistoryStore | None) -> None:
        header = QLabel(
            self.tr("Signed in to {vault} as {user}").format(
                vault=self.vault_label, user=self.session.username
            ),
            self,
        )
        set_names(header, "sessionLabel")
        header.setWordWrap(True)
        sign_out = QPushButton(self.tr("Sign out"), self)
        set_names(sign_out, "signOutButton")
        sign_out.clicked.connect(self._sign_out)
        top = QHBoxLayout()
        top.addWidget(header, 1)
        top.addWidget(sign_out)

        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._build_cancel_tab(), self.tr("&Cancel a job"))
        self.history_view = HistoryView(history, self)
        self.tabs.addTab(self.history_view, self.tr("&History"))

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self._build_menu()
        self.statusBar().showMessage(self.tr("Ready."))
        self.limits_label = QLabel(self)
        set_names(self.limits_label, "vaultLimitsLabel")
        self.limits_label.setStyleSheet("color: #8a5300;")
        self.limits_label.setVisible(False)
        self.statusBar().addPermanentWidget(self.limits_label)
        self._limits_timer = QTimer(self)
        self._limits_timer.setSingleShot(True)
        self._limits_timer.setInterval(LIMITS_NOTICE_MS)
        self._limits_timer.timeout.connect(self._clear_limits)

    def _build_cancel_tab(self) -> QWidget:
        tab = QWidget(self)
        self.submission_edit = QLineEdit(tab)
        set_names(self.submission_edit, "submissionEdit")
        self.submission_edit.setPlaceholderText(
            self.tr("Record ID such as 00S000000000101, or the exact name")
        )
        self.submission_edit.returnPressed.connect(self.start_lookup)
        self.lookup_button = QPushButton(self.tr("Look up"), tab)
        set_names(self.lookup_button, "lookupButton")
        self.lookup_button.clicked.connect(self.start_lookup)
        self.stop_button = QPushButton(self.tr("Stop"), tab)
        set_names(self.stop_button, "stopButton")
        self.stop_button.setVisible(False)
        self.stop_button.clicked.connect(self.stop)

        prompt = QLabel(self.tr("Submission &record ID or exact name:"), tab)
        prompt.setBuddy(self.submission_edit)
        search_row = QHBoxLayout()
        search_row.addWidget(self.submission_edit, 1)
        search_row.addWidget(self.lookup_button)
        search_row.addWidget(self.stop_button)

        self.busy = busy_bar(tab)
        self.busy_label = QLabel(tab)
        set_names(self.busy_label, "busyLabel")
        self.busy_label.setWordWrap(True)
        self.busy_label.setVisible(False)
        self.lookup_message = MessageArea("lookupMessageLabel", tab)
        self.history_warning = QLabel(tab)
        set_names(self.history_warning, "historyWarningLabel")
        self.history_warning.setWordWrap(True)
        self.history_warning.setStyleSheet("color: #8a5300;")
        self.history_warning.setVisible(False)

        self.match_list = QListWidget(tab)
        set_names(self.match_list, "matchList")
        self.match_list.setVisible(False)
        self.match_list.setMaximumHeight(110)
        self.match_list.itemActivated.connect(self._pick_match)
        self.match_list.itemClicked.connect(self._pick_match)

        self.panel = SubmissionPanel(tab)
        self.panel.cancel_requested.connect(self.ask_to_cancel)
        self.panel.refresh_requested.connect(self.start_refresh)

        outcome_box = QGroupBox(self.tr("Result of the last cancel"), tab)
        self.outcome_box = outcome_box
        self.outcome = MessageArea("outcomeLabel", outcome_box)
        self.outcome.show_message(self.tr("No cancel sent in this session yet."))
        outcome_layout = QVBoxLayout(outcome_box)
        outcome_layout.addWidget(self.outcome)

        layout = QVBoxLayout(tab)
        layout.addWidget(prompt)
        layout.addLayout(search_row)
        layout.addWidget(self.busy)
        layout.addWidget(self.busy_label)
        layout.addWidget(self.lookup_message)
        layout.addWidget(self.match_list)
        layout.addWidget(self.panel)
        layout.addWidget(outcome_box)
        layout.addWidget(self.history_warning)
        layout.addStretch(1)
        return tab

    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        sign_out = QAction(self.tr("Sign &out"), self)
        sign_out.triggered.connect(self._sign_out)
        file_menu.addAction(sign_out)
        settings = QAction(self.tr("&Settings…"), self)
        settings.setObjectName("settingsAction")
        settings.triggered.connect(self.settings_requested)
        file_menu.addAction(settings)
        quit_action = QAction(self.tr("&Quit"), self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        self.help_menu = self.menuBar().addMenu(self.tr("&Help"))
        about = QAction(self.tr("&About vaultgui"), self)
        about.setObjectName("aboutAction")
        about.triggered.connect(self._show_about)
        self.help_menu.addAction(about)

    def _show_about(self) -> None:
        text = self.tr(
            "vaultgui {version}\n\nCancels a stuck Submissions Archive import "
            "or removal in Veeva Vault RIM. Talks only to the Vault you sign "
            "in to, using Vault API {api}."
        ).format(version=__version__, api=self.client.api_version)
        box = message_box(
            self,
            "aboutDialog",
            QMessageBox.Icon.Information,
            self.tr("About vaultgui"),
            text,
        )
        box.open()

    # -- running one call at a time --------------------------------------------

    @property
    def busy_with_call(self) -> bool:
        """Return whether a lookup, status read or cancel is in flight."""
        return self._task is not None and not self._task.done()

    @property
    def cancel_in_flight(self) -> bool:
        """Return whether a cancel request may be on its way to Vault."""
        flow = self._cancel_flow
        return flow is not None and flow.request_started and self.busy_with_call

    def _start(self, coro: Coroutine[Any, Any, object], name: str) -> None:
        self._task = spawn(self._run_busy(coro), name=name)

    async def _run_busy(self, coro: Coroutine[Any, Any, object]) -> None:
        # The controls are enabled again inside the task, so they are usable
        # by the time the task reports done.
        try:
            await coro
        finally:
            self._set_busy(None)

    def _set_busy(self, text: str | None) -> None:
        busy = text is not None
        self.busy.setVisible(busy)
        self.busy_label.setVisible(busy)
        self.busy_label.setText(text or "")
        self.stop_button.setVisible(busy)
        self.lookup_button.setEnabled(not busy)
        self.submission_edit.setReadOnly(busy)
        self.match_list.setEnabled(not busy)
        self.panel.set_actions_enabled(not busy)
        self.statusBar().showMessage(text or self.tr("Ready."))

    def stop(self) -> None:
        """Stop waiting for the call in flight; Vault may still carry it out."""
        if not self.busy_with_call or self._task is None:
            return
        flow = self._cancel_flow
        self._generation.next()
        self._task.cancel()
        log.info("User stopped waiting for %s", self._task.get_name())
        if flow is not None and flow.request_started:
            self._task.add_done_callback(lambda _task: self._recheck_after_stop(flow))
        elif flow is not None:
            self.outcome.show_message(
                self.tr(
                    "Stopped before the cancel was sent. Nothing was sent to Vault."
                )
            )
        else:
            self.lookup_message.show_message(self.tr("Stopped."))

    # -- lookup ----------------------------------------------------------------

    def start_lookup(self) -> None:
        """Validate the lookup field and look the submission up."""
        if self.busy_with_call:
            return
        text = self.submission_edit.text().strip()
        if not text:
            self.lookup_message.show_message(
                self.tr("Enter a submission record ID or its exact name."), "error"
            )
            self.submission_edit.setFocus()
            return
        self._cancel_flow = None
        self._start(self._lookup(text, self._generation.next()), "lookup")

    async def _lookup(self, text: str, generation: int) -> None:
        self._set_busy(self.tr("Looking up “{text}”…").format(text=_shortened(text)))
        self.lookup_message.clear()
        self.match_list.setVisible(False)
        # A failed or stopped lookup must not leave the previous submission,
        # with its enabled cancel button, under the new search text.
        self.panel.show_submission(None)
        try:
            # The status is shown first; the application name follows.
            matches = await self.keeper.read(
                lambda: self.client.lookup(text, with_application_name=False),
                name="lookup",
            )
        except NotFoundError:
            if self._generation.is_current(generation):
                self._show_not_found(text)
            return
        except VaultError as error:
            log.warning("Lookup of %r failed: %r", text, error)
            if self._generation.is_current(generation):
                self.lookup_message.show_message(self._describe(error), "error")
            await self.recorder.add(
                Action.LOOKUP,
                submission_name=text,
                outcome=Outcome.FAILED,
                execution_id=error.execution_id,
                detail=details_for(error),
            )
            return
        if not self._generation.is_current(generation):
            return
        if len(matches) == 1:
            self._show_found(matches[0])
        else:
            self._show_matches(text, matches)

    def _show_not_found(self, text: str) -> None:
        self.panel.show_submission(None)
        self.lookup_message.show_message(
            self.tr(
                "No submission with the record ID or name “{text}” was found. Check "
                "it for typing errors; a name must match exactly, including capital "
                "letters and punctuation."
            ).format(text=_shortened(text)),
            "error",
        )

    def _show_found(self, submission: Submission) -> None:
        self.panel.show_submission(submission)
        if submission.application_id and not submission.application_name:
            spawn(self._fill_application_name(submission), name="application-name")
        self.lookup_message.show_message(
            self.tr("Found {name}.").format(name=submission.name), "ok"
        )
        spawn(
            self.recorder.add(
                Action.LOOKUP,
                submission_id=submission.id,
                submission_name=submission.name,
                status_before=submission.archive_status,
                outcome=Outcome.SUCCEEDED,
            ),
            name="history-lookup",
        )

    def _show_matches(self, text: str, matches: list[Submission]) -> None:
        self.panel.show_submission(None)
        self.match_list.clear()
        for submission in matches:
            item = QListWidgetItem(
                self.tr("{name} — {application} — {id} — {status}").format(
                    name=submission.name,
                    application=submission.application_name
                    or submission.application_id,
                    id=submission.id,
                    status=status_info(submission.archive_status).display,
                )
            )
            item.setData(Qt.ItemDataRole.UserRole, submission)
            self.match_list.addItem(item)
        self.match_list.setVisible(True)
        self.lookup_message.show_message(
            self.tr(
                "{count} submissions are named “{text}”. Choose one from the list."
            ).format(count=len(matches), text=_shortened(text))
        )

    async def _fill_application_name(self, submission: Submission) -> None:
        try:
            name = await self.keeper.read(
                lambda: self.client.application_name(submission.application_id),
                name="application-name",
            )
        except VaultError as error:
            log.warning("Application name of %s not read: %r", submission.id, error)
            return
        shown = self.panel.submission
        if name and shown is not None and shown.id == submission.id:
            self.panel.show_application_name(name)

    def _pick_match(self, item: QListWidgetItem) -> None:
        submission = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(submission, Submission) and not self.busy_with_call:
            self.match_list.setVisible(False)
            self._show_found(submission)

    # -- status refresh ---------------------------------------------------------

    def start_refresh(self) -> None:
        """Read the displayed submission's status again."""
        submission = self.panel.submission
        if submission is None or self.busy_with_call:
            return
        self._start(
            self._refresh(submission, self._generation.next(), Action.RECHECK),
            "refresh",
        )

    async def _refresh(
        self, submission: Submission, generation: int, action: Action
    ) -> Submission | None:
        self._set_busy(self.tr("Reading the status Vault reports now…"))
        try:
            latest = await self.keeper.read(
                lambda: self.client.get_submission(
                    submission.id, with_application_name=False
                ),
                name="refresh",
            )
            latest = dataclasses.replace(
                latest, application_name=submission.application_name
            )
        except VaultError as error:
            if self._generation.is_current(generation):
                self.lookup_message.show_message(self._describe(error), "error")
            return None
        if self._generation.is_current(generation):
            self.panel.show_submission(latest)
            self.lookup_message.show_message(
                self.tr("Status read again: {status}.").format(
                    status=status_info(latest.archive_status).display
                ),
                "ok",
            )
        await self.recorder.add(
            action,
            submission_id=latest.id,
            submission_name=latest.name,
            status_before=submission.archive_status,
            status_after=latest.archive_status,
            outcome=Outcome.SUCCEEDED,
        )
        return latest

    # -- cancel -------------------------------------------------------------------

    def ask_to_cancel(self) -> None:
        """Open the confirmation for the displayed submission's job."""
        submission = self.panel.submission
        status = self.panel.status
        if submission is None or not status.cancellable or self.busy_with_call:
            return
        if self._confirm_dialog is not None:
            return
        dialog = ConfirmCancelDialog(
            submission,
            status,
            self.vault_label,
            self,
            earlier_cancel=self._unclear_cancels.get(submission.id, ""),
        )
        dialog.accepted.connect(lambda: self._start_cancel(submission))
        dialog.finished.connect(self._confirmation_closed)
        self._confirm_dialog = dialog
        dialog.open()

    def _confirmation_closed(self) -> None:
        dialog, self._confirm_dialog = self._confirm_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def _start_cancel(self, submission: Submission) -> None:
        if self.busy_with_call or self.panel.submission != submission:
            return
        flow = CancelFlow(
            self.client,
            self.keeper,
            self.recorder,
            submission,
            status_info(submission.archive_status),
            progress=self._set_busy,
            pauses=self.recheck_pauses,
        )
        self._cancel_flow = flow
        self.outcome.clear()
        self.outcome_box.setTitle(
            self.tr("Result of the last cancel: {name} ({id})").format(
                name=_shortened(submission.name, 50), id=submission.id
            )
        )
        self._start(self._cancel(flow, self._generation.next()), "cancel")

    async def _cancel(self, flow: CancelFlow, generation: int) -> None:
        try:
            result = await flow.run()
        except asyncio.CancelledError:
            if flow.request_started:
                self._remember_unclear_cancel(flow)
            raise
        if result.outcome in (Outcome.UNKNOWN, Outcome.ABANDONED):
            self._remember_unclear_cancel(flow)
        if not self._generation.is_current(generation):
            return
        if result.submission is not None:
            self.panel.show_submission(result.submission)
        self.outcome.show_message(result.message, result.tone)
        self.statusBar().showMessage(self.tr("Cancel finished."))

    def _remember_unclear_cancel(self, flow: CancelFlow) -> None:
        self.note_unclear_cancel(flow.submission_id, flow.sent_at or datetime.now())

    def note_unclear_cancel(self, submission_id: str, sent_at: datetime) -> None:
        """Remember a cancel whose result is unknown, so another one warns first."""
        self._unclear_cancels[submission_id] = sent_at.astimezone().strftime(
            "%Y-%m-%d %H:%M"
        )

    def _recheck_after_stop(self, flow: CancelFlow) -> None:
        submission = self.panel.submission
        if submission is None:
            return
        self.outcome.show_message(
            self.tr(
                "You stopped waiting. The cancel may still reach Vault, so the "
                "status is being read again."
            )
        )
        self._start(self._recheck(submission, flow, self._generation.next()), "recheck")

    async def _recheck(
        self, submission: Submission, flow: CancelFlow, generation: int
    ) -> None:
        latest = await self._refresh(submission, generation, Action.RECHECK)
        if not self._generation.is_current(generation):
            return
        if latest is None:
            text = self.tr(
                "You stopped waiting for the cancel, and the status could not be "
                "read. Use Refresh status to see what Vault reports."
            )
        else:
            text = self.tr(
                "You stopped waiting for the cancel. Vault now reports: {status}."
            ).format(status=status_info(latest.archive_status).display)
        self.outcome.show_message(UserMessage(text, flow.reference_id), "error")

    # -- errors, sign-out and closing ---------------------------------------------

    def _describe(self, error: VaultError) -> UserMessage:
        return describe_error(error, host=self.client.address.host)

    def _show_limits(self, limits: ApiLimits) -> None:
        # Replies without throttling headers do not clear the notice at once:
        # Vault throttles for the rest of its window, so it stays for a minute.
        text = limits_text(limits)
        if text:
            self.limits_label.setText(text)
            self.limits_label.setVisible(True)
            self._limits_timer.start()

    def _clear_limits(self) -> None:
        self.limits_label.clear()
        self.limits_label.setVisible(False)

    def _show_history_failure(self, text: str) -> None:
        self.statusBar().showMessage(text)
        self.history_warning.setText(text)
        self.history_warning.setVisible(True)

    def _sign_out(self) -> None:
        if self.busy_with_call:
            self.statusBar().showMessage(
                self.tr("Wait for the current call to finish, or press Stop.")
            )
            return
        self.sign_out_requested.emit()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.cancel_in_flight and not self._closing_confirmed:
            event.ignore()
            self._ask_before_closing()
            return
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self.keeper.stop()
        super().closeEvent(event)
        self.closed.emit()

    def _ask_before_closing(self) -> None:
        if self._close_question is not None and self._close_question.isVisible():
            return
        question = message_box(
            self,
            "closeWhileCancellingDialog",
            QMessageBox.Icon.Warning,
            self.tr("A cancel is in progress"),
            self.tr(
                "vaultgui is sending a cancel to Vault. If you quit now, you will "
                "not see what Vault did, and the history will list the cancel as "
                "stopped. Quit anyway?"
            ),
        )
        quit_button = question.addButton(
            self.tr("Quit anyway"), QMessageBox.ButtonRole.DestructiveRole
        )
        keep_button = question.addButton(
            self.tr("Keep waiting"), QMessageBox.ButtonRole.RejectRole
        )
        # Enter and Escape both keep waiting; quitting needs a deliberate click.
        question.setDefaultButton(keep_button)
        question.setEscapeButton(keep_button)

        def answered() -> None:
            if question.clickedButton() is quit_button:
                self._closing_confirmed = True
                self.close()

        question.finished.connect(answered)
        self._close_question = question
        question.open()


def _shortened(text: str, limit: int = 60) -> str:
    """Return ``text`` cut to ``limit`` characters, so a pasted block cannot
    widen the window past the screen."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
