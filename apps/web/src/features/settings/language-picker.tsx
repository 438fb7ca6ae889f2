import { useId, useState } from "react";
import { chooseLanguage, hasChosenLanguage, useLocale } from "../i18n/i18n.ts";
import { isLanguage, LANGUAGES } from "../i18n/language.ts";

const FOLLOW_BROWSER = "browser";

/** The app's language: the browser's until a choice is made here; the choice is remembered. */
export function LanguagePicker({ showHint = false }: { showHint?: boolean }) {
  const { t, language } = useLocale();
  const id = useId();
  const hintId = useId();
  const [chosen, setChosen] = useState(hasChosenLanguage);
  return (
    <div className="language-picker">
      <label htmlFor={id}>{t("language.label")}</label>
      <select
        id={id}
        value={chosen ? language : FOLLOW_BROWSER}
        aria-describedby={showHint ? hintId : undefined}
        onChange={(event) => {
          const value = event.target.value;
          chooseLanguage(isLanguage(value) ? value : null);
          setChosen(isLanguage(value));
        }}
      >
        <option value={FOLLOW_BROWSER}>{t("settings.followBrowser")}</option>
        {LANGUAGES.map((code) => (
          // Each language named in itself, so a person who can't read the current one finds theirs.
          <option key={code} value={code} lang={code}>
            {t(`language.${code}`)}
          </option>
        ))}
      </select>
      {showHint && (
        <p id={hintId} className="muted small">
          {t("settings.languageHint")}
        </p>
      )}
    </div>
  );
}
