// An S3 client as apps configure one for berth's stores: path-style, checksums only when required.
import { S3Client } from '@aws-sdk/client-s3';

export const s3Client = (endpoint: string, accessKeyId: string, secretAccessKey: string, region = 'us-east-1') => new S3Client({
  endpoint, region, forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId, secretAccessKey },
  requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
});
