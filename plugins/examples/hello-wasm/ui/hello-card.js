// A dashboard widget. React comes from the panel's import map, so this module stays tiny.
import { createElement as h, useEffect, useState } from "react";

export function HelloCard() {
  const [state, setState] = useState({ loading: true });

  useEffect(() => {
    let live = true;
    fetch("/api/plugins/hello-wasm/hello")
      .then((response) => (response.ok ? response.json() : Promise.reject(response.statusText)))
      .then((data) => live && setState({ data }))
      .catch((error) => live && setState({ error: String(error) }));
    return () => {
      live = false;
    };
  }, []);

  if (state.loading) return h("p", { "aria-busy": "true" }, "Loading greetings…");
  if (state.error) return h("p", { role: "alert" }, `Could not load greetings: ${state.error}`);
  const { greetings } = state.data;
  return h(
    "section",
    null,
    h("h3", null, "Greetings"),
    greetings === 0
      ? h("p", null, "Nobody has been greeted yet.")
      : h("p", null, `${greetings} greeting${greetings === 1 ? "" : "s"} so far.`),
  );
}
