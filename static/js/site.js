/* Flight Log: the reader's theme choice (system, light or dark) and copy buttons on code.
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
    const show = () => {
      button.textContent = `Theme: ${root.dataset.theme || "system"}`;
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

  document.addEventListener("DOMContentLoaded", () => {
    const toggle = document.querySelector(".theme-toggle");
    if (toggle) setUpThemeToggle(toggle);
    document.querySelectorAll(".code-block").forEach(addCopyButton);
  });
})();
