// A response body read up to a bound: what a site sends (its manifest, its gpc.json) cannot grow the
// worker's memory. The declared length is checked first, then the bytes as they arrive; beyond `limit`
// the read is cancelled and `tooLarge()` is thrown.

export async function readAtMost(response, limit, tooLarge) {
  if (Number(response.headers.get("content-length")) > limit) throw tooLarge();
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
