import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { type KeyboardEvent, useEffect, useId, useState } from "react";
import { describeError } from "../../describe-error.ts";
import { navigate } from "../../route.ts";
import { type RouterOutputs, useTRPC } from "../../trpc.ts";
import { formatTime } from "../chat/format-time.ts";
import { useLocale } from "../i18n/i18n.ts";
import { highlightedParts } from "./highlights.ts";

type Result = RouterOutputs["chat"]["search"]["results"][number];

/** Typing pauses this long before a search goes out; a newer query cancels the older one's request. */
const DEBOUNCE_MS = 250;
const MIN_LENGTH = 2;

interface Props {
  /** Search this conversation only; all of mine when absent. */
  conversationId?: string;
}

/** A search box with results as you type: arrow keys move, Enter opens the message, Escape clears. */
export function SearchBox({ conversationId }: Props) {
  const trpc = useTRPC();
  const { t, locale } = useLocale();
  const listId = useId();
  const [text, setText] = useState("");
  const [query, setQuery] = useState("");
  const [active, setActive] = useState(0);

  useEffect(() => {
    const timer = setTimeout(() => setQuery(text.trim()), DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text]);

  const enabled = [...query].length >= MIN_LENGTH;
  const search = useQuery(
    trpc.chat.search.queryOptions(
      { query, limit: 20, ...(conversationId ? { conversationId } : {}) },
      { enabled, placeholderData: keepPreviousData, staleTime: 10_000 },
    ),
  );
  const results = enabled ? (search.data?.results ?? []) : [];
  const open = enabled && text.trim() !== "";

  function openResult(result: Result) {
    setText("");
    setQuery("");
    navigate({ name: "conversation", id: result.conversationId, messageId: result.messageId });
  }

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === "Escape") {
      setText("");
      return;
    }
    if (results.length === 0) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive((index) => (index + step + results.length) % results.length);
    } else if (event.key === "Enter") {
      event.preventDefault();
      const chosen = results[Math.min(active, results.length - 1)];
      if (chosen) openResult(chosen);
    }
  }

  const optionId = (index: number) => `${listId}-${index}`;
  return (
    <search className="search">
      <input
        type="search"
        className="search-input"
        dir="auto"
        value={text}
        placeholder={conversationId ? t("search.inConversation") : t("search.everywhere")}
        aria-label={conversationId ? t("search.inConversation") : t("search.everywhere")}
        role="combobox"
        aria-expanded={open}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={open && results.length > 0 ? optionId(active) : undefined}
        onChange={(event) => {
          setText(event.target.value);
          setActive(0);
        }}
        onKeyDown={onKeyDown}
      />
      {open && (
        <div className="search-results">
          {search.isError && (
            <p className="error small" role="alert">
              {describeError(search.error)}
            </p>
          )}
          {!search.isError && search.isSuccess && results.length === 0 && (
            <p className="muted small" role="status">
              {t("search.noResults", { query })}
            </p>
          )}
          <div id={listId} role="listbox" aria-label={t("search.results")}>
            {results.map((result, index) => (
              // biome-ignore lint/a11y/useKeyWithClickEvents: the input's arrow keys and Enter drive the list.
              <div
                key={result.messageId}
                id={optionId(index)}
                role="option"
                tabIndex={-1}
                aria-selected={index === active}
                className="search-result"
                onMouseEnter={() => setActive(index)}
                onClick={() => openResult(result)}
              >
                <span className="search-result-head small">
                  <bdi dir="auto">{result.otherParticipant.name ?? result.otherParticipant.id}</bdi>
                  <time dateTime={result.timestamp.toISOString()}>
                    {formatTime(result.timestamp, new Date(), locale)}
                  </time>
                </span>
                {result.content !== "" && (
                  <Highlighted className="search-result-text" text={result.content} highlights={result.highlights} />
                )}
                {result.files.map((file, position) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: a message's files keep their order.
                  <span key={position} className="search-result-file small">
                    <span aria-hidden="true">📎 </span>
                    <Highlighted className="search-result-file-name" text={file.name} highlights={file.highlights} />
                  </span>
                ))}
              </div>
            ))}
          </div>
        </div>
      )}
    </search>
  );
}

/** A text with the search's hits marked. */
function Highlighted({
  text,
  highlights,
  className,
}: {
  text: string;
  highlights: { start: number; end: number }[];
  className: string;
}) {
  return (
    <span className={className} dir="auto">
      {highlightedParts(text, highlights).map((part) =>
        part.hit ? <mark key={part.start}>{part.text}</mark> : <span key={part.start}>{part.text}</span>,
      )}
    </span>
  );
}
