"""The cluster layer: what runs on any conformant cluster, EKS or one the user already has."""
