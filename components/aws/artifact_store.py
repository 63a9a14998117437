"""The artifact store: a private, versioned S3 bucket encrypted with a customer-managed key."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws.policy import document
from components.options import child_options

# Multipart uploads abandoned by a crashed pipeline step cost storage and are never read.
ABORT_INCOMPLETE_UPLOADS_DAYS = 7


def bucket_policy(bucket_arn: str) -> str:
    """The bucket policy: refuse any request not made over TLS 1.2 or newer."""
    resources = [bucket_arn, f"{bucket_arn}/*"]
    statements = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyOutdatedTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
        },
    ]
    return document(statements)


@dataclass(frozen=True)
class ArtifactStoreArgs:
    """Inputs of an ArtifactStore."""

    kms_key_arn: pulumi.Input[str]
    """The customer-managed key every object is encrypted with."""
    noncurrent_version_expiry_days: int = 90
    """How long a replaced or deleted object version is kept before it expires."""


class ArtifactStore(pulumi.ComponentResource):
    """The bucket that holds model artifacts, datasets' references and pipeline outputs."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: ArtifactStoreArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Create the bucket and every control that keeps it private and recoverable."""
        # Checked before registering, so a refused component leaves nothing half-declared.
        if args.noncurrent_version_expiry_days < 1:
            raise ValueError(
                f"noncurrent version expiry must be at least 1 day, got {args.noncurrent_version_expiry_days}"
            )
        super().__init__("slipway:aws:ArtifactStore", name, None, opts)
        child = child_options(self, opts)
        bucket = aws.s3.Bucket(f"{name}-bucket", force_destroy=False, opts=child)
        # ACLs off: access is decided by IAM and the bucket policy alone.
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms",
                        kms_master_key_id=args.kms_key_arn,
                    ),
                    # Bucket keys cut KMS requests (and their cost) by orders of magnitude.
                    bucket_key_enabled=True,
                    blocked_encryption_types=["SSE-C"],
                )
            ],
            opts=child,
        )
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled",
            ),
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-noncurrent-versions",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=args.noncurrent_version_expiry_days,
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=ABORT_INCOMPLETE_UPLOADS_DAYS,
                    ),
                )
            ],
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket.id,
            policy=bucket.arn.apply(bucket_policy),
            # S3 rejects a policy put while the public access block is still being written.
            opts=child_options(self, opts, [public_access]),
        )
        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.register_outputs({"bucketName": self.bucket_name, "bucketArn": self.bucket_arn})
