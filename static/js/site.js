/* Flight Log: the reader's theme choice (system, light or dark), copy buttons on code, and the
   docs navigation's panel.
   Loaded in <head> without defer, so a stored theme applies before the first paint. */
(() => {
  "use strict";
  const root = document.documentElement;
  const KEY = "flightlog-theme";
  const NEXT = { system: "dark", dark: "light", light: "system" };
  const stored = (() => {
    try { return localStorage.getItem(KEY); } catch { return null; }
  })();
  if (stored === "light" || stored === "dark") root.dataset.theme = stored;

  const setUpThemeToggle = (button) => {
    const icon = document.createElement("span");
    const label = document.createElement("span");
    icon.className = "theme-icon";
    icon.setAttribute("aria-hidden", "true");
    label.className = "theme-label";
    button.replaceChildren(icon, label);
    const show = () => {
      label.textContent = `Theme: ${root.dataset.theme || "system"}`;
    };
    button.addEventListener("click", () => {
      const next = NEXT[root.dataset.theme || "system"];
      try {
        if (next === "system") localStorage.removeItem(KEY); else localStorage.setItem(KEY, next);
      } catch { /* private mode: the choice lasts for this page only */ }
      if (next === "system") delete root.dataset.theme; else root.dataset.theme = next;
      show();
    });
    show();
    button.hidden = false;
  };

  // A shell session copies as its commands only: the lines after "$ ", without output.
  const copyText = (code) => {
    const text = code.textContent;
    if (!code.classList.contains("language-console")) return text;
    const commands = text.split("\n").filter((line) => line.startsWith("$ "));
    return commands.length ? commands.map((line) => line.slice(2)).join("\n") : text;
  };

  const addCopyButton = (block) => {
    const header = block.querySelector(".code-header");
    const code = block.querySelector("pre code");
    if (!header || !code || !navigator.clipboard) return;
    const button = document.createElement("button");
    const status = document.createElement("span");
    button.type = "button";
    button.className = "copy-button";
    button.textContent = "Copy";
    status.className = "visually-hidden";
    status.setAttribute("aria-live", "polite");
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(copyText(code));
        button.textContent = "Copied";
        status.textContent = "Code copied to the clipboard";
      } catch {
        button.textContent = "Select and copy";
      }
      setTimeout(() => { button.textContent = "Copy"; status.textContent = ""; }, 2000);
    });
    header.append(button, status);
  };

  // The docs navigation is a closed panel on a phone and the open sidebar on wide screens (CSS
  // shows it open where ::details-content is supported; this covers the other browsers).
  const openOnWideScreens = (details) => {
    const wide = window.matchMedia("(min-width: 62rem)");
    const follow = () => { if (wide.matches) details.open = true; };
    wide.addEventListener("change", follow);
    follow();
  };

  document.addEventListener("DOMContentLoaded", () => {
    const toggle = document.querySelector(".theme-toggle");
    if (toggle) setUpThemeToggle(toggle);
    document.querySelectorAll(".docs-nav details").forEach(openOnWideScreens);
    document.querySelectorAll(".code-block").forEach(addCopyButton);
  });
})();
