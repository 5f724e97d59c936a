// A server tab: waves at the server through the plugin's own server route
// (POST /api/client/servers/{server}/hello-wasm/wave), as the person looking.
import { createElement as h, useState } from "react";
import { Button, Stack, Text } from "@hatchery/ui";

export function WaveTab({ api, server }) {
  const [answer, setAnswer] = useState(null);
  const [busy, setBusy] = useState(false);
  const wave = () => {
    setBusy(true);
    api.request("POST", "/hello-wasm/wave", {}, "server").then((result) => {
      setBusy(false);
      setAnswer(result);
    });
  };
  return h(
    Stack,
    { gap: "sm", align: "flex-start" },
    h(Text, null, `Wave at the players of ${server.name}.`),
    h(Button, { onClick: wave, loading: busy }, "Wave"),
    answer === null
      ? null
      : answer.ok
        ? h(Text, { c: "green", "data-testid": "waved" }, `Waved at ${answer.body.server}.`)
        : h(Text, { c: "red", role: "alert" }, `The wave did not go out (${answer.status}).`),
  );
}
