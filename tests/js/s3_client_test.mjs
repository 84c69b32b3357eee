// The AWS SDK for JavaScript v3 against ozs3. Usage:
//   node s3_client_test.mjs <endpoint> <bucket>
// With a hostname endpoint the SDK uses virtual-host style by default
// (http://<bucket>.localhost:<port>/key): that is what this exercises.
import { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand,
  ListObjectsV2Command, HeadObjectCommand, DeleteObjectCommand,
  DeleteBucketCommand, CopyObjectCommand } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { Readable } from "node:stream";
import { createHash, randomBytes } from "node:crypto";

const [endpoint, bucket] = process.argv.slice(2);
const s3 = new S3Client({ endpoint, region: "us-east-1",
  credentials: { accessKeyId: "clientuser", secretAccessKey: "clientsecret" } });
const md5 = (b) => createHash("md5").update(b).digest("hex");
function check(ok, what) { if (!ok) { throw new Error("check failed: " + what); } }

await s3.send(new CreateBucketCommand({ Bucket: bucket }));
// A string body: x-amz-checksum-crc32 header.
await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "hello.txt", Body: "hello js",
  ContentType: "text/plain", Metadata: { who: "js" } }));
// A stream body: HTTP-chunked + aws-chunked with a CRC32 trailer.
const streamed = randomBytes(300000);
await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "dir/stream.bin",
  Body: Readable.from([streamed.subarray(0, 100000), streamed.subarray(100000)]),
  ContentLength: streamed.length }));
// lib-storage Upload: 5 MiB parts, 4 at a time.
const big = randomBytes(12 * 1024 * 1024 + 5);
await new Upload({ client: s3, params: { Bucket: bucket, Key: "dir/big.bin",
  Body: Readable.from([big]) }, partSize: 5 * 1024 * 1024, queueSize: 4 }).done();
const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "dir/big.bin",
  ChecksumMode: "ENABLED" }));
check(md5(Buffer.from(await got.Body.transformToByteArray())) === md5(big), "big body");
const s = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "dir/stream.bin" }));
check(md5(Buffer.from(await s.Body.transformToByteArray())) === md5(streamed), "stream body");
const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "hello.txt" }));
check(h.ContentLength === 8 && h.Metadata.who === "js" && h.ContentType === "text/plain", "head");
await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: "copy.txt",
  CopySource: `${bucket}/hello.txt` }));
const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: "/" }));
check(JSON.stringify((list.Contents || []).map((c) => c.Key)) ===
  JSON.stringify(["copy.txt", "hello.txt"]), "list keys");
check((list.CommonPrefixes || []).map((p) => p.Prefix).join() === "dir/", "prefixes");
for (const key of ["hello.txt", "copy.txt", "dir/stream.bin", "dir/big.bin"]) {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}
await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
console.log("js sdk ok");
