// Object storage provisioning, run by the services worker with the AWS SDK.
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Grant } from './model.js';

export interface S3Admin { endpoint: string; region: string; accessKey: string; secretKey: string }

export async function applyS3(a: S3Admin, g: S3Grant): Promise<void> {
  const s3 = new S3Client({
    endpoint: a.endpoint, region: a.region, forcePathStyle: true,
    credentials: { accessKeyId: a.accessKey, secretAccessKey: a.secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
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
