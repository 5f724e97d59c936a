// An admin overview card: how busy the native plugin has been since the panel started.
// Native plugins are trusted code, and this one is granted `ui_trusted`: the card runs
// in the panel's own page, sharing its React through the import map.
import { createElement as h, useEffect, useState } from "react";
import { Loader, Text } from "@hatchery/ui";

export default function NativeCard({ api }) {
  const [answer, setAnswer] = useState(null);

  useEffect(() => {
    api.request("GET", "/hello").then(setAnswer);
  }, [api]);

  if (answer === null) return h(Loader, { size: "sm", "aria-label": "Loading" });
  if (!answer.ok) return h(Text, { c: "red", role: "alert" }, `Native plugin unavailable (${answer.status}).`);
  const hello = answer.body;
  return h(
    Text,
    { "data-testid": "native-card" },
    `Served ${hello.requests_served} requests; heard ${hello.greetings_heard.length} greetings.`,
  );
}
