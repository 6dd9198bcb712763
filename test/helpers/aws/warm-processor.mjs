// One warm processor container, as Lambda reuses one: imports the bundle once, then hands it an S3
// ObjectCreated event for each key on the command line, one after another. Run under a memory cap.
const [bundle, ...keys] = process.argv.slice(2);
const { handler } = await import(bundle);
for (const key of keys) {
  const object = { key: encodeURIComponent(key).replace(/%2F/g, '/'), size: 0 };
  await handler({ Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: process.env.INPUT_BUCKET }, object } }] });
  process.stdout.write(`processed ${key}\n`);
}
