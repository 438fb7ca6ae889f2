import { BackLink } from "../chat/conversation-view.tsx";
import { useOutboxDurability } from "../chat/outbox.tsx";
import { useLocale } from "../i18n/i18n.ts";
import { NotificationSettings } from "../notifications/notification-settings.tsx";
import { LanguagePicker } from "./language-picker.tsx";

export function SettingsPanel() {
  const { t } = useLocale();
  const durable = useOutboxDurability();
  return (
    <section className="settings" aria-labelledby="settings-title">
      <header className="conversation-header">
        <BackLink />
        <h2 id="settings-title">{t("settings.title")}</h2>
      </header>
      <div className="settings-body">
        <LanguagePicker showHint />
        <NotificationSettings />
        <h3>{t("settings.storage")}</h3>
        <p className="muted" data-durable={durable}>
          {t(durable ? "settings.storageDurable" : "settings.storageVolatile")}
        </p>
      </div>
    </section>
  );
}
