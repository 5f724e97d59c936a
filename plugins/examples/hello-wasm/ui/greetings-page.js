// An admin page, for staff holding users.read: the plugin's admin route
// (GET /api/admin/hello-wasm/greetings).
import { createElement as h, useEffect, useState } from "react";
import { Card, Loader, Text } from "@hatchery/ui";
import { counted } from "./words.js";

export function GreetingsPage({ api }) {
  const [answer, setAnswer] = useState(null);
  useEffect(() => {
    api.request("GET", "/hello-wasm/greetings", undefined, "admin").then(setAnswer);
  }, [api]);
  if (answer === null) return h(Loader, { size: "sm", "aria-label": "Loading" });
  if (!answer.ok) return h(Text, { c: "red", role: "alert" }, `The plugin answered ${answer.status}.`);
  return h(
    Card,
    { withBorder: true },
    h(Text, { "data-testid": "greetings-total" }, `${counted(answer.body.greetings, "greeting")} kept.`),
  );
}
