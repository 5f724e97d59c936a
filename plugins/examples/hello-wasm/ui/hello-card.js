// A dashboard widget. React and the panel's components come through the page's import
// map, so this module stays tiny and needs no build. This plugin is not granted
// `ui_trusted`, so the widget runs in a sandboxed frame: `api` is its only way to the
// panel, and it reaches only this plugin's routes.
import { createElement as h, useEffect, useState } from "react";
import { Loader, Text } from "@hatchery/ui";
import { counted } from "./words.js";

export function HelloCard({ api }) {
  const [state, setState] = useState({ loading: true });

  useEffect(() => {
    let live = true;
    api.request("GET", "/hello").then((answer) => {
      if (!live) return;
      setState(answer.ok ? { data: answer.body } : { error: `the plugin answered ${answer.status}` });
    });
    return () => {
      live = false;
    };
  }, [api]);

  if (state.loading) return h(Loader, { size: "sm", "aria-label": "Loading greetings" });
  if (state.error) return h(Text, { c: "red", role: "alert" }, `Could not load greetings: ${state.error}`);
  const { greeting, greetings } = state.data;
  return h(
    Text,
    { "data-testid": "hello-widget" },
    greetings === 0
      ? `${greeting}! Nobody has been greeted yet.`
      : `${greeting}! ${counted(greetings, "greeting")} so far.`,
  );
}
