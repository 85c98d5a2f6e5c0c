// Reads a captured HTTP request as JSON on stdin ({"headers": {...}, "body": "..."}) and prints the
// CloudEvent the official JavaScript SDK finds in it, or exits 1 with the SDK's error.
import { HTTP } from "cloudevents";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { headers, body } = JSON.parse(input);
try {
  const event = HTTP.toEvent({ headers, body });
  const one = Array.isArray(event) ? event[0] : event;
  one.validate();
  process.stdout.write(JSON.stringify({ mode: HTTP.isEvent({ headers, body }) ? "event" : "none", event: one }));
} catch (e) {
  process.stderr.write(String(e && e.message ? e.message : e));
  process.exit(1);
}
