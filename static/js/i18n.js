// Language helpers. UI chrome strings come from Django's JavaScriptCatalog (/jsi18n/, loaded as a classic
// script before any module); content that carries its own {en, ko} text (the scenario catalog, event
// meanings) is picked by the page's language. The page's language is Django's LANGUAGE_CODE on <html lang>.

export const lang = (document.documentElement.lang || "en").toLowerCase().startsWith("ko") ? "ko" : "en";

// Fall back to the source (English) strings if the catalog failed to load: the page must still work.
export const gettext = typeof window.gettext === "function" ? window.gettext : (s) => s;

export function interpolate(fmt, values) {
  if (typeof window.interpolate === "function") return window.interpolate(fmt, values, true);
  return fmt.replace(/%\((\w+)\)s/g, (_, k) => String(values[k]));
}

// Pick the current language from a {en, ko} object; English when a translation is missing.
export function pick(text) {
  if (text == null) return "";
  if (typeof text === "string") return text;
  return text[lang] || text.en || "";
}
