// Object storage provisioning, run by the services worker with the AWS SDK.
import { CreateBucketCommand, ListBucketsCommand, DeleteBucketCommand, DeleteObjectsCommand, HeadBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { S3Grant } from './model.js';

export interface S3Admin { endpoint: string; region: string; accessKey: string; secretKey: string }

const client = (a: S3Admin) => new S3Client({
  endpoint: a.endpoint, region: a.region, forcePathStyle: true,
  credentials: { accessKeyId: a.accessKey, secretAccessKey: a.secretKey },
  requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
});

export async function applyS3(a: S3Admin, g: Pick<S3Grant, 'bucket'>): Promise<void> {
  const s3 = client(a);
  try {
    const have = await s3.send(new HeadBucketCommand({ Bucket: g.bucket })).then(() => true, (e: { $metadata?: { httpStatusCode?: number } }) => {
      if (e.$metadata?.httpStatusCode === 404) return false;
      throw e;
    });
    if (!have) await s3.send(new CreateBucketCommand({ Bucket: g.bucket }));
  } finally {
    s3.destroy();
  }
}

/** Proves the key works: lists the buckets it can see. */
export async function checkS3(a: S3Admin): Promise<void> {
  const s3 = client(a);
  try {
    await s3.send(new ListBucketsCommand({}));
  } finally {
    s3.destroy();
  }
}

/** Empties and deletes the app's bucket. */
export async function dropS3(a: S3Admin, g: Pick<S3Grant, 'bucket'>): Promise<void> {
  const s3 = client(a);
  try {
    for (;;) {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: g.bucket, MaxKeys: 1000 })).catch((e: { $metadata?: { httpStatusCode?: number } }) => {
        if (e.$metadata?.httpStatusCode === 404) return null;
        throw e;
      });
      if (!page) return;
      if (!page.Contents?.length) break;
      await s3.send(new DeleteObjectsCommand({ Bucket: g.bucket, Delete: { Objects: page.Contents.map((o) => ({ Key: o.Key! })) } }));
    }
    await s3.send(new DeleteBucketCommand({ Bucket: g.bucket }));
  } finally {
    s3.destroy();
  }
}
