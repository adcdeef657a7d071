"""Cloud instances as data: plan, create, wait, configure and destroy them through one provider seam.

``spec`` (what is declared) -> ``plan`` (what exists, compared by tag) -> ``apply`` (create,
wait for running and for SSH with a pinned host key, write the inventory, deploy, check).
Providers: ``local`` (real lab hosts), ``aws`` (boto3), ``aliyun`` (the official ECS SDK).
"""
