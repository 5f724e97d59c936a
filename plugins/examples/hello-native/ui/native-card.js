// An admin overview card: how busy the native plugin has been since the panel started.
import { createElement as h, useEffect, useState } from "react";

export default function NativeCard() {
  const [hello, setHello] = useState(null);
  const [error, setError] = useState(null);

  useEffect(() => {
    fetch("/api/plugins/hello-native/hello")
      .then((response) => (response.ok ? response.json() : Promise.reject(response.statusText)))
      .then(setHello, (reason) => setError(String(reason)));
  }, []);

  if (error) return h("p", { role: "alert" }, `Native plugin unavailable: ${error}`);
  if (!hello) return h("p", { "aria-busy": "true" }, "Loading…");
  return h("p", null, `Served ${hello.requests_served} requests; heard ${hello.greetings_heard.length} greetings.`);
}
