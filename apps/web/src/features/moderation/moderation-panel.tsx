import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, type ReactNode, useId, useState } from "react";
import { Trans } from "react-i18next";
import { describeError } from "../../describe-error.ts";
import { routeHref } from "../../route.ts";
import { type RouterOutputs, useTRPC } from "../../trpc.ts";
import { BackLink } from "../chat/conversation-view.tsx";
import { formatFullTime } from "../chat/format-time.ts";
import { useLocale } from "../i18n/i18n.ts";

type Report = RouterOutputs["moderation"]["reports"]["reports"][number];
type Reviewed = RouterOutputs["moderation"]["conversation"];

/** Naafe's moderators: the open reports, and one reported conversation read in full (every read is audited). */
export function ModerationPanel({ conversationId }: { conversationId?: string | undefined }) {
  const { t } = useLocale();
  return (
    <section className="moderation" aria-labelledby="moderation-title">
      <header className="conversation-header">
        <BackLink />
        <h2 id="moderation-title">{conversationId ? t("moderation.conversationTitle") : t("moderation.title")}</h2>
      </header>
      <div className="moderation-body">
        {conversationId ? <ReviewedConversation conversationId={conversationId} /> : <OpenReports />}
      </div>
    </section>
  );
}

function OpenReports() {
  const trpc = useTRPC();
  const { t } = useLocale();
  const reports = useQuery(trpc.moderation.reports.queryOptions({ status: "open", limit: 50 }));
  if (reports.isPending) return <p className="muted">{t("moderation.loading")}</p>;
  if (reports.isError) {
    return (
      <p className="error" role="alert">
        {describeError(reports.error)}
      </p>
    );
  }
  if (reports.data.reports.length === 0) return <p className="muted">{t("moderation.empty")}</p>;
  return (
    <ul className="report-list">
      {reports.data.reports.map((report) => (
        <ReportCard key={report.id} report={report}>
          <a className="button subtle" href={routeHref({ name: "moderation", conversationId: report.conversationId })}>
            {t("moderation.read")}
          </a>
        </ReportCard>
      ))}
    </ul>
  );
}

function ReportCard({ report, children }: { report: Report; children?: ReactNode }) {
  const { t, locale } = useLocale();
  return (
    <li className="report-card">
      <p>
        <strong>{reasonLabel(report.reason, t)}</strong>{" "}
        <span className="muted small">
          ·{" "}
          <Trans i18nKey="moderation.reportedBy" values={{ name: report.reporterId }} components={{ name: <bdi /> }} />{" "}
          · <time dateTime={report.createdAt.toISOString()}>{formatFullTime(report.createdAt, locale)}</time>
        </span>
      </p>
      {report.note && (
        <p className="small" dir="auto">
          {t("moderation.note", { note: report.note })}
        </p>
      )}
      <div className="inline-form">
        {children}
        {report.status === "open" && <ResolveButton reportId={report.id} />}
      </div>
    </li>
  );
}

function reasonLabel(reason: string, t: ReturnType<typeof useLocale>["t"]) {
  const known = ["spam", "scam", "harassment", "off-platform", "inappropriate", "other"] as const;
  const match = known.find((value) => value === reason);
  return match ? t(`safety.reasons.${match}`) : reason;
}

function ResolveButton({ reportId }: { reportId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { t } = useLocale();
  const resolve = useMutation(
    trpc.moderation.resolveReport.mutationOptions({
      onSuccess() {
        void queryClient.invalidateQueries({ queryKey: trpc.moderation.reports.pathKey() });
        void queryClient.invalidateQueries({ queryKey: trpc.moderation.conversation.pathKey() });
      },
    }),
  );
  return (
    <>
      <button
        type="button"
        className="button subtle"
        disabled={resolve.isPending}
        onClick={() => resolve.mutate({ reportId })}
      >
        {t("moderation.resolve")}
      </button>
      {resolve.isError && (
        <span className="error small" role="alert">
          {describeError(resolve.error)}
        </span>
      )}
    </>
  );
}

function ReviewedConversation({ conversationId }: { conversationId: string }) {
  const trpc = useTRPC();
  const { t } = useLocale();
  // Each fetch is an audited read: no refetching behind the moderator's back.
  const reviewed = useQuery(
    trpc.moderation.conversation.queryOptions(
      { conversationId },
      { staleTime: Number.POSITIVE_INFINITY, refetchOnWindowFocus: false, refetchOnReconnect: false },
    ),
  );
  return (
    <>
      <p className="audit-banner" role="note">
        {t("moderation.auditBanner")}
      </p>
      {reviewed.isPending && <p className="muted">{t("messages.loading")}</p>}
      {reviewed.isError && (
        <p className="error" role="alert">
          {describeError(reviewed.error)}
        </p>
      )}
      {reviewed.data && <ReviewedDetails data={reviewed.data} />}
    </>
  );
}

function ReviewedDetails({ data }: { data: Reviewed }) {
  const { t, locale } = useLocale();
  const { conversation, messages, reports } = data;
  const seeker = conversation.participantSeeker;
  const provider = conversation.participantProvider;
  const nameOf = (id: string) => (id === "naafe" ? t("moderation.naafe") : id);
  return (
    <>
      <p className="small">
        <bdi dir="auto">{conversation.jobRequest.title}</bdi> ·{" "}
        <Trans i18nKey="moderation.participants" values={{ seeker, provider }} components={{ name: <bdi /> }} /> ·{" "}
        <span className="status" data-status={conversation.isActive ? "open" : "closed"}>
          {conversation.isActive ? t("moderation.openState") : t("moderation.closedState")}
        </span>
      </p>
      <p className="muted small">{t("moderation.original")}</p>
      <ol className="reviewed-messages" aria-label={t("messages.label")}>
        {messages.map((message) => (
          <li key={message.id} className="reviewed-message" data-deleted={message.deletedAt ? true : undefined}>
            <span className="muted small">
              <bdi>{nameOf(message.senderId)}</bdi> ·{" "}
              <time dateTime={message.timestamp.toISOString()}>{formatFullTime(message.timestamp, locale)}</time>
              {message.editedAt && ` · ${t("safety.edited")}`}
              {message.deletedAt && ` · ${t("moderation.deletedBySender")}`}
            </span>
            <p dir="auto">{message.content}</p>
            {message.changes.length > 0 && (
              <p className="muted small" dir="auto">
                {t("moderation.earlier", {
                  versions: message.changes.map((change) => change.previousContent).join(" → "),
                  interpolation: { escapeValue: false },
                })}
              </p>
            )}
          </li>
        ))}
      </ol>
      {reports.length > 0 && (
        <ul className="report-list">
          {reports.map((report) => (
            <ReportCard key={report.id} report={report} />
          ))}
        </ul>
      )}
      <CloseConversationForm conversationId={conversation.id} isActive={conversation.isActive} />
      <SuspendUserForm users={[seeker, provider]} />
    </>
  );
}

/** Stays mounted once the conversation is closed, so the outcome stays announced. */
function CloseConversationForm({ conversationId, isActive }: { conversationId: string; isActive: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { t } = useLocale();
  const [reason, setReason] = useState("");
  const reasonId = useId();
  const titleId = useId();
  const close = useMutation(
    trpc.moderation.closeConversation.mutationOptions({
      onSuccess() {
        setReason("");
        void queryClient.invalidateQueries({ queryKey: trpc.moderation.conversation.pathKey() });
      },
    }),
  );
  function submit(event: FormEvent) {
    event.preventDefault();
    close.mutate({ conversationId, reason: reason.trim() });
  }
  const outcome = (
    <Outcome error={close.isError ? close.error : null} done={close.isSuccess ? t("moderation.closed") : null} />
  );
  if (!isActive) return outcome;
  return (
    <form className="moderation-form" aria-labelledby={titleId} onSubmit={submit}>
      <h3 id={titleId}>{t("moderation.closeConversation")}</h3>
      <label htmlFor={reasonId}>{t("moderation.closeReason")}</label>
      <ReasonField id={reasonId} value={reason} onChange={setReason} />
      <button type="submit" className="button" disabled={close.isPending || reason.trim().length < 3}>
        {t("moderation.closeConversation")}
      </button>
      {outcome}
    </form>
  );
}

const DURATIONS = { day: 1, week: 7, month: 30 } as const;
type Duration = keyof typeof DURATIONS;

function SuspendUserForm({ users }: { users: string[] }) {
  const trpc = useTRPC();
  const { t, locale } = useLocale();
  const [userId, setUserId] = useState(users[0] ?? "");
  const [duration, setDuration] = useState<Duration>("day");
  const [reason, setReason] = useState("");
  const ids = { title: useId(), user: useId(), duration: useId(), reason: useId() };
  const suspend = useMutation(trpc.moderation.suspendUser.mutationOptions({ onSuccess: () => setReason("") }));
  function submit(event: FormEvent) {
    event.preventDefault();
    const until = new Date(Date.now() + DURATIONS[duration] * 24 * 3_600_000);
    suspend.mutate({ userId, until, reason: reason.trim() });
  }
  return (
    <form className="moderation-form" aria-labelledby={ids.title} onSubmit={submit}>
      <h3 id={ids.title}>{t("moderation.suspendUser")}</h3>
      <label htmlFor={ids.user}>{t("moderation.who")}</label>
      <select id={ids.user} value={userId} onChange={(event) => setUserId(event.target.value)}>
        {users.map((id) => (
          <option key={id} value={id}>
            {id}
          </option>
        ))}
      </select>
      <label htmlFor={ids.duration}>{t("moderation.duration")}</label>
      <select id={ids.duration} value={duration} onChange={(event) => setDuration(event.target.value as Duration)}>
        {(Object.keys(DURATIONS) as Duration[]).map((key) => (
          <option key={key} value={key}>
            {t(`moderation.durations.${key}`)}
          </option>
        ))}
      </select>
      <label htmlFor={ids.reason}>{t("moderation.suspendReason")}</label>
      <ReasonField id={ids.reason} value={reason} onChange={setReason} />
      <button type="submit" className="button" disabled={suspend.isPending || reason.trim().length < 3}>
        {t("moderation.suspend")}
      </button>
      <Outcome
        error={suspend.isError ? suspend.error : null}
        done={suspend.data ? t("moderation.suspended", { date: formatFullTime(suspend.data.until, locale) }) : null}
      />
    </form>
  );
}

function ReasonField({ id, value, onChange }: { id: string; value: string; onChange: (value: string) => void }) {
  const { t } = useLocale();
  const hintId = `${id}-hint`;
  return (
    <>
      <textarea
        id={id}
        value={value}
        onChange={(event) => onChange(event.target.value)}
        rows={2}
        maxLength={500}
        dir="auto"
        aria-describedby={hintId}
      />
      <span id={hintId} className="muted small">
        {t("moderation.reasonHint")}
      </span>
    </>
  );
}

function Outcome({ error, done }: { error: unknown; done: string | null }) {
  return (
    <>
      {error ? (
        <p className="error small" role="alert">
          {describeError(error)}
        </p>
      ) : null}
      <p className="muted small" role="status">
        {done}
      </p>
    </>
  );
}
