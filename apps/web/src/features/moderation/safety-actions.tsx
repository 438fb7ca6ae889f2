import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, type ReactNode, useId, useState } from "react";
import { Trans } from "react-i18next";
import { describeError } from "../../describe-error.ts";
import { type RouterOutputs, useTRPC } from "../../trpc.ts";
import { useLocale } from "../i18n/i18n.ts";

type Conversation = RouterOutputs["chat"]["conversation"];
type ReportReason = "spam" | "scam" | "harassment" | "off-platform" | "inappropriate" | "other";
const REPORT_REASONS: readonly ReportReason[] = [
  "spam",
  "scam",
  "harassment",
  "off-platform",
  "inappropriate",
  "other",
];

type Step = "complete" | "share" | "report" | "block" | null;

/**
 * The conversation's trust-and-safety actions: the seeker marks the job completed, either side
 * shares their contact details on purpose, reports the conversation or blocks the other person.
 * Each asks for a confirmation before anything is sent.
 */
export function SafetyActions({ conversation }: { conversation: Conversation }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { t } = useLocale();
  const [step, setStep] = useState<Step>(null);
  const [done, setDone] = useState<string | null>(null);
  // The server keeps no "who I blocked" list for the app to read: known from this session's answers.
  const [blocked, setBlocked] = useState(false);
  const other = conversation.otherParticipant;
  const otherName = other.name ?? other.id;
  const conversationId = conversation.id;

  const finish = (message: string) => {
    setStep(null);
    setDone(message);
  };
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: trpc.chat.conversation.queryKey({ conversationId }) });
    void queryClient.invalidateQueries({ queryKey: trpc.chat.messages.pathKey() });
    void queryClient.invalidateQueries({ queryKey: trpc.jobRequest.pathKey() });
  };

  const complete = useMutation(
    trpc.jobRequest.setStatus.mutationOptions({
      onSuccess() {
        refresh();
        finish(t("safety.completed"));
      },
    }),
  );
  const share = useMutation(trpc.chat.shareContact.mutationOptions({ onSuccess: () => finish(t("safety.shared")) }));
  const block = useMutation(
    trpc.chat.block.mutationOptions({
      onSuccess() {
        setBlocked(true);
        finish(t("safety.blocked"));
      },
      onError(error) {
        // Blocked already (in another tab or an earlier visit): the state the person wanted.
        if (error.data?.code === "CONFLICT") {
          setBlocked(true);
          finish(t("safety.blocked"));
        }
      },
    }),
  );
  const unblock = useMutation(
    trpc.chat.unblock.mutationOptions({
      onSuccess() {
        setBlocked(false);
        finish(t("safety.unblocked"));
      },
    }),
  );

  const open = (next: Step) => {
    setDone(null);
    setStep(step === next ? null : next);
  };
  const canComplete = conversation.role === "seeker" && conversation.jobRequest.status === "assigned";
  const failed = [complete, share, block, unblock].find((mutation) => mutation.isError && !blockConflict(mutation));

  return (
    <div className="safety-bar">
      <div className="safety-buttons">
        {canComplete && (
          <ToggleButton expanded={step === "complete"} onClick={() => open("complete")}>
            {t("safety.markCompleted")}
          </ToggleButton>
        )}
        {conversation.isActive && (
          <ToggleButton expanded={step === "share"} onClick={() => open("share")}>
            {t("safety.shareContact")}
          </ToggleButton>
        )}
        <ToggleButton expanded={step === "report"} onClick={() => open("report")}>
          {t("safety.report")}
        </ToggleButton>
        {blocked ? (
          <button
            type="button"
            className="button subtle"
            disabled={unblock.isPending}
            onClick={() => {
              setDone(null);
              unblock.mutate({ userId: other.id });
            }}
          >
            {t("safety.unblock")}
          </button>
        ) : (
          <ToggleButton expanded={step === "block"} onClick={() => open("block")}>
            {t("safety.block")}
          </ToggleButton>
        )}
      </div>
      {step === "complete" && (
        <Confirm
          confirm={t("safety.confirmComplete")}
          pending={complete.isPending}
          onConfirm={() => complete.mutate({ jobRequestId: conversation.jobRequestId, status: "completed" })}
          onCancel={() => setStep(null)}
        >
          {t("safety.completeConfirm", { title: conversation.jobRequest.title })}
        </Confirm>
      )}
      {step === "share" && (
        <Confirm
          confirm={t("safety.confirmShare")}
          pending={share.isPending}
          onConfirm={() => share.mutate({ conversationId })}
          onCancel={() => setStep(null)}
        >
          <Trans i18nKey="safety.shareConfirm" values={{ name: otherName }} components={{ name: <bdi /> }} />
        </Confirm>
      )}
      {step === "block" && (
        <Confirm
          confirm={t("safety.confirmBlock")}
          pending={block.isPending}
          onConfirm={() => block.mutate({ userId: other.id })}
          onCancel={() => setStep(null)}
        >
          <Trans i18nKey="safety.blockConfirm" values={{ name: otherName }} components={{ name: <bdi /> }} />
        </Confirm>
      )}
      {step === "report" && (
        <ReportForm
          conversationId={conversationId}
          onSent={() => finish(t("safety.reported"))}
          onCancel={() => setStep(null)}
        />
      )}
      {failed && (
        <p className="error small" role="alert">
          {describeError(failed.error)}
        </p>
      )}
      <p className="muted small safety-done" role="status">
        {done}
      </p>
    </div>
  );
}

function blockConflict(mutation: { error: unknown }) {
  const error = mutation.error as { data?: { code?: string } } | null;
  return error?.data?.code === "CONFLICT";
}

function ToggleButton({
  expanded,
  onClick,
  children,
}: {
  expanded: boolean;
  onClick: () => void;
  children: ReactNode;
}) {
  return (
    <button type="button" className="button subtle" aria-expanded={expanded} onClick={onClick}>
      {children}
    </button>
  );
}

interface ConfirmProps {
  children: ReactNode;
  confirm: string;
  pending: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}

/** The confirmation step: a question and two buttons, the question the group's legend. */
function Confirm({ children, confirm, pending, onConfirm, onCancel }: ConfirmProps) {
  const { t } = useLocale();
  return (
    <fieldset className="safety-confirm">
      <legend>{children}</legend>
      <div className="inline-form">
        <button type="button" className="button" disabled={pending} onClick={onConfirm}>
          {confirm}
        </button>
        <button type="button" className="button subtle" onClick={onCancel}>
          {t("safety.cancel")}
        </button>
      </div>
    </fieldset>
  );
}

function ReportForm(props: { conversationId: string; onSent: () => void; onCancel: () => void }) {
  const { conversationId, onSent, onCancel } = props;
  const trpc = useTRPC();
  const { t } = useLocale();
  const [reason, setReason] = useState<ReportReason>("spam");
  const [note, setNote] = useState("");
  const titleId = useId();
  const reasonId = useId();
  const noteId = useId();
  const report = useMutation(trpc.chat.report.mutationOptions({ onSuccess: onSent }));

  function submit(event: FormEvent) {
    event.preventDefault();
    const trimmed = note.trim();
    report.mutate({ conversationId, reason, ...(trimmed ? { note: trimmed } : {}) });
  }

  return (
    <form className="safety-confirm" aria-labelledby={titleId} onSubmit={submit}>
      <p id={titleId}>
        <strong>{t("safety.reportTitle")}</strong>
      </p>
      <p className="muted small">{t("safety.reportHint")}</p>
      <label htmlFor={reasonId}>{t("safety.reason")}</label>
      <select id={reasonId} value={reason} onChange={(event) => setReason(event.target.value as ReportReason)}>
        {REPORT_REASONS.map((value) => (
          <option key={value} value={value}>
            {t(`safety.reasons.${value}`)}
          </option>
        ))}
      </select>
      <label htmlFor={noteId}>{t("safety.note")}</label>
      <textarea
        id={noteId}
        value={note}
        onChange={(event) => setNote(event.target.value)}
        maxLength={1000}
        rows={2}
        dir="auto"
      />
      <div className="inline-form">
        <button type="submit" className="button" disabled={report.isPending}>
          {t("safety.sendReport")}
        </button>
        <button type="button" className="button subtle" onClick={onCancel}>
          {t("safety.cancel")}
        </button>
      </div>
      {report.isError && (
        <p className="error small" role="alert">
          {describeError(report.error)}
        </p>
      )}
    </form>
  );
}
