// Uploads a file to VideoTube with the real tus-js-client, as a Node front end would, and prints
// one JSON line per event for the test driving it (crates/http/tests/api/resumable.rs):
// `chunk` (bytes the server accepted), `retry` (after an error), and last `success` (the video's
// id and, if a retry happened, the `Upload-Offset` of the first piece the server took after it)
// or `error`.
//
//   node upload.js <endpoint> <access token> <file> [chunk size in bytes]
const fs = require('fs');
const path = require('path');
const tus = require('tus-js-client');

const [endpoint, token, file, chunkSize] = process.argv.slice(2);
const print = (event) => process.stdout.write(JSON.stringify(event) + '\n');

let retried = false;
let resumedAt = null;
const upload = new tus.Upload(fs.readFileSync(file), {
  endpoint,
  chunkSize: chunkSize ? Number(chunkSize) : Infinity,
  retryDelays: [0, 200, 500, 1000, 1000, 2000, 2000, 3000, 3000, 5000, 5000, 5000],
  headers: { Authorization: `Bearer ${token}` },
  metadata: {
    title: 'Sent with tus',
    description: 'Resumed across failures',
    filename: path.basename(file),
    filetype: 'video/mp4',
  },
  onAfterResponse(req, res) {
    // The first piece the server took after a failure: where the upload went on from.
    if (retried && resumedAt === null && req.getMethod() === 'PATCH' && res.getStatus() === 204) {
      resumedAt = Number(req.getHeader('Upload-Offset'));
    }
  },
  onChunkComplete(_size, accepted, total) {
    print({ event: 'chunk', accepted, total });
  },
  onShouldRetry(err, attempt) {
    const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
    const retry = status === 0 || status >= 500 || status === 409 || status === 423;
    print({ event: 'retry', attempt, status, retry, error: String(err.message).slice(0, 300) });
    retried = retried || retry;
    return retry;
  },
  onSuccess(payload) {
    const videoId = payload.lastResponse.getHeader('Video-Id');
    print({ event: 'success', url: upload.url, videoId, retried, resumedAt });
    process.exit(0);
  },
  onError(err) {
    print({ event: 'error', error: String(err).slice(0, 1000) });
    process.exit(1);
  },
});
upload.start();
