import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { describeError } from "../../describe-error.ts";
import { navigate, routeHref } from "../../route.ts";
import { type RouterOutputs, useTRPC } from "../../trpc.ts";
import { BackLink } from "../chat/conversation-view.tsx";
import { currentLocale, i18n, useLocale } from "../i18n/i18n.ts";
import { WithName } from "../i18n/with-name.tsx";

type JobRequest = RouterOutputs["jobRequest"]["list"][number];
type Offer = JobRequest["offers"][number];

/** Just enough of the marketplace to open a conversation: post a job, offer on it, accept. */
export function MarketplacePanel({ me }: { me: string }) {
  const trpc = useTRPC();
  // Offers on one's own jobs and acceptances arrive live (onInbox); other people's new jobs
  // reach nobody's inbox, so the list is also refreshed now and then while shown.
  const jobs = useQuery(trpc.jobRequest.list.queryOptions(undefined, { refetchInterval: 15_000 }));
  const { t } = useLocale();

  return (
    <section className="marketplace" aria-labelledby="marketplace-title">
      <header className="conversation-header">
        <BackLink />
        <h2 id="marketplace-title">{t("marketplace.title")}</h2>
      </header>
      <div className="marketplace-body">
        <PostJobForm />
        <h3>{t("marketplace.jobRequests")}</h3>
        {jobs.isPending && <p className="muted">{t("marketplace.loading")}</p>}
        {jobs.isError && (
          <p className="error" role="alert">
            {describeError(jobs.error)}
          </p>
        )}
        {jobs.data?.length === 0 && <p className="muted">{t("marketplace.empty")}</p>}
        <ul className="job-list">
          {jobs.data?.map((job) => (
            <JobCard key={job.id} job={job} me={me} />
          ))}
        </ul>
      </div>
    </section>
  );
}

function PostJobForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [title, setTitle] = useState("");
  const titleId = useId();
  const { t } = useLocale();
  const create = useMutation(
    trpc.jobRequest.create.mutationOptions({
      onSuccess() {
        setTitle("");
        void queryClient.invalidateQueries({ queryKey: trpc.jobRequest.list.pathKey() });
      },
    }),
  );

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate({ title });
  }

  return (
    <form className="post-job" onSubmit={submit}>
      <label htmlFor={titleId}>{t("marketplace.postLabel")}</label>
      <div className="inline-form">
        <input
          id={titleId}
          value={title}
          onChange={(event) => setTitle(event.target.value)}
          placeholder={t("marketplace.postPlaceholder")}
          maxLength={200}
          dir="auto"
        />
        <button type="submit" className="button" disabled={create.isPending || !title.trim()}>
          {t("marketplace.post")}
        </button>
      </div>
      {create.isError && (
        <p className="error" role="alert">
          {describeError(create.error)}
        </p>
      )}
    </form>
  );
}

function JobCard({ job, me }: { job: JobRequest; me: string }) {
  const mine = job.seekerId === me;
  const { t } = useLocale();
  return (
    <li className="job-card">
      <div className="job-top">
        <h4 dir="auto">{job.title}</h4>
        <span className="status" data-status={job.status}>
          {t(`marketplace.jobStatus.${job.status}`)}
        </span>
      </div>
      <p className="muted small">
        {mine ? (
          t("marketplace.yourJob")
        ) : (
          <WithName i18nKey="marketplace.postedBy" name={job.seeker.name ?? job.seeker.id} />
        )}
      </p>
      {mine ? (
        <OffersOnMyJob job={job} />
      ) : job.offers.length > 0 ? (
        <ul className="offers">
          {job.offers.map((offer) => (
            <li key={offer.id}>
              <span>
                {t("marketplace.yourOffer", { price: formatPrice(offer.price) })} ·{" "}
                <span data-status={offer.status}>{t(`marketplace.offerStatus.${offer.status}`)}</span>
              </span>
            </li>
          ))}
        </ul>
      ) : job.status === "open" ? (
        <MakeOfferForm job={job} />
      ) : null}
      {job.conversationId && (
        <a className="button subtle" href={routeHref({ name: "conversation", id: job.conversationId })}>
          {t("marketplace.openConversation")}
        </a>
      )}
    </li>
  );
}

function OffersOnMyJob({ job }: { job: JobRequest }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const accept = useMutation(
    trpc.offer.accept.mutationOptions({
      onSuccess({ conversation }) {
        void queryClient.invalidateQueries({ queryKey: trpc.jobRequest.list.pathKey() });
        void queryClient.invalidateQueries({ queryKey: trpc.chat.conversations.pathKey() });
        navigate({ name: "conversation", id: conversation.id });
      },
    }),
  );
  const { t } = useLocale();
  if (job.offers.length === 0) return <p className="muted small">{t("marketplace.noOffers")}</p>;
  return (
    <>
      <ul className="offers">
        {job.offers.map((offer: Offer) => (
          <li key={offer.id}>
            <span>
              <WithName
                i18nKey="marketplace.offers"
                name={offer.provider.name ?? offer.provider.id}
                price={formatPrice(offer.price)}
              />{" "}
              · <span data-status={offer.status}>{t(`marketplace.offerStatus.${offer.status}`)}</span>
            </span>
            {job.status === "open" && offer.status === "pending" && (
              <button
                type="button"
                className="button"
                disabled={accept.isPending}
                onClick={() => accept.mutate({ offerId: offer.id })}
              >
                <WithName i18nKey="marketplace.accept" name={offer.provider.name ?? t("marketplace.acceptOffer")} />
              </button>
            )}
          </li>
        ))}
      </ul>
      {accept.isError && (
        <p className="error" role="alert">
          {describeError(accept.error)}
        </p>
      )}
    </>
  );
}

function MakeOfferForm({ job }: { job: JobRequest }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [price, setPrice] = useState("");
  const priceId = useId();
  const { t } = useLocale();
  const create = useMutation(
    trpc.offer.create.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.jobRequest.list.pathKey() }),
    }),
  );

  function submit(event: FormEvent) {
    event.preventDefault();
    const amount = price.trim() === "" ? undefined : Number(price);
    create.mutate({ jobRequestId: job.id, ...(amount === undefined ? {} : { price: amount }) });
  }

  return (
    <form className="inline-form" onSubmit={submit}>
      <label htmlFor={priceId} className="visually-hidden">
        {t("marketplace.priceLabel", { title: job.title })}
      </label>
      <input
        id={priceId}
        type="number"
        inputMode="decimal"
        min="0"
        step="0.01"
        value={price}
        onChange={(event) => setPrice(event.target.value)}
        placeholder={t("marketplace.pricePlaceholder")}
        dir="auto"
      />
      <button type="submit" className="button" disabled={create.isPending}>
        {t("marketplace.makeOffer")}
      </button>
      {create.isError && (
        <p className="error" role="alert">
          {describeError(create.error)}
        </p>
      )}
    </form>
  );
}

function formatPrice(price: number | null) {
  const { t } = i18n;
  return price === null
    ? t("marketplace.noPrice")
    : price.toLocaleString(currentLocale(), { maximumFractionDigits: 2 });
}
