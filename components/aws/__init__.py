"""The cloud layer on AWS: raw pulumi_aws resources, every one visible in a plan."""
