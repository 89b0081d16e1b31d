// Times the official ElevenLabs JS SDK's webhook verification in-process.
//
// usage: node bench.js input.json
//
// input.json (written by cmd/report): {"secret": "...", "rounds": 5, "clock": "cpu",
// "round_ms": 200, "cases": [{"size": "1 KiB", "body_file": "...",
// "header": "t=...,v0=..."}]}. Prints one JSON object on stdout with the
// median ns/op per case over the rounds.
"use strict";

const fs = require("fs");
const crypto = require("crypto");
const { ElevenLabsClient } = require("@elevenlabs/elevenlabs-js");
const sdkVersion = require("@elevenlabs/elevenlabs-js/package.json").version;

const input = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
// No request is ever made: constructEvent is local, the key is a placeholder.
const webhooks = new ElevenLabsClient({ apiKey: "unused" }).webhooks;

// The reference row: Node's own HMAC over the same string, no SDK around it.
function nodeHMAC(body, header, secret) {
  const parts = header.split(",");
  const t = parts.find((p) => p.startsWith("t=")).slice(2);
  const v0 = parts.find((p) => p.startsWith("v0=")).slice(3);
  const got = crypto.createHmac("sha256", secret).update(`${t}.${body}`).digest();
  if (!crypto.timingSafeEqual(got, Buffer.from(v0, "hex"))) {
    throw new Error("mismatch");
  }
}

const verifiers = {
  "@elevenlabs/elevenlabs-js constructEvent": (body, header, secret) =>
    webhooks.constructEvent(body, header, secret),
  "Node crypto.createHmac (reference)": async (body, header, secret) =>
    nodeHMAC(body, header, secret),
};

// timeRound returns ns per call: CPU time of the process (user and system,
// all threads, microsecond resolution) when input.clock is "cpu", else
// wall-clock time.
async function timeRound(fn, body, header, secret, iterations) {
  const wall = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  for (let i = 0; i < iterations; i++) {
    await fn(body, header, secret);
  }
  if (input.clock === "cpu") {
    const d = process.cpuUsage(cpu);
    return ((d.user + d.system) * 1000) / iterations;
  }
  return Number(process.hrtime.bigint() - wall) / iterations;
}

async function main() {
  const results = [];
  for (const [name, fn] of Object.entries(verifiers)) {
    for (const c of input.cases) {
      // The body as a receiver holds it: a string, as the SDK expects.
      const body = fs.readFileSync(c.body_file, "utf8");

      // Honesty check: the valid signature passes, a changed body fails.
      await fn(body, c.header, input.secret);
      const mid = body.length >> 1;
      const tampered = body.slice(0, mid) + (body[mid] === "a" ? "b" : "a") + body.slice(mid + 1);
      let refused = false;
      try {
        await fn(tampered, c.header, input.secret);
      } catch (e) {
        refused = true;
      }
      if (!refused) throw new Error(`${name} accepted a tampered body`);

      // Warm up (JIT) and size a round to about round_ms.
      let iterations = 1;
      for (;;) {
        const ns = await timeRound(fn, body, c.header, input.secret, iterations);
        if (ns * iterations >= input.round_ms * 1e6 / 4) {
          iterations = Math.max(1, Math.ceil((input.round_ms * 1e6) / ns));
          break;
        }
        iterations *= 4;
      }
      const rounds = [];
      for (let r = 0; r < input.rounds; r++) {
        rounds.push(await timeRound(fn, body, c.header, input.secret, iterations));
      }
      rounds.sort((a, b) => a - b);
      results.push({
        name,
        size: c.size,
        ns_per_op: rounds[rounds.length >> 1],
        clock: input.clock,
        iterations_per_round: iterations,
        rounds: input.rounds,
      });
    }
  }
  process.stdout.write(
    JSON.stringify({ node: process.version, sdk: sdkVersion, results }) + "\n",
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
