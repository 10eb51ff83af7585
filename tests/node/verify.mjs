// Verifies vault presentations with `jose`, a JOSE library we did not write, as a Node site would.
// Input on stdin: {"cases": [{"name", "token", "audience", "nonce", "now"}]}.
// Output on stdout: [{"name", "ok", "claims"?, "subject"?, "error"?}], one entry per case.
import { calculateJwkThumbprintUri, EmbeddedJWK, jwtVerify } from "jose";

const TYP = "vault-presentation+jwt";

async function verify({ token, audience, nonce, now }) {
  const { payload, protectedHeader } = await jwtVerify(token, EmbeddedJWK, {
    algorithms: ["EdDSA"],
    typ: TYP,
    audience,
    currentDate: new Date(now * 1000),
    clockTolerance: 60,
    maxTokenAge: 660,
    requiredClaims: ["iss", "sub", "aud", "iat", "exp", "jti", "nonce"],
  });
  const subject = await calculateJwkThumbprintUri(protectedHeader.jwk, "sha256");
  if (payload.iss !== subject || payload.sub !== subject) {
    throw new Error("iss/sub is not the thumbprint URI of the embedded key");
  }
  if (payload.nonce !== nonce) {
    throw new Error("wrong nonce");
  }
  return { claims: payload.claims, subject };
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

const { cases } = await readStdin();
const results = [];
for (const item of cases) {
  try {
    results.push({ name: item.name, ok: true, ...(await verify(item)) });
  } catch (error) {
    results.push({ name: item.name, ok: false, error: `${error.code ?? error.name}: ${error.message}` });
  }
}
process.stdout.write(JSON.stringify(results));
