"""The same transfers without the service: plain concurrent boto3 calls, plain file copies."""

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
from botocore.config import Config

THREADS = 16
CHUNK = 1024 * 1024


def s3_client(config: dict):
    return boto3.session.Session().client(
        "s3",
        endpoint_url=config["endpoint_url"],
        region_name=config["region"],
        aws_access_key_id=config["access_key_id"],
        aws_secret_access_key=config["secret_access_key"],
        config=Config(
            s3={"addressing_style": "path"},
            max_pool_connections=THREADS,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def full_key(config: dict, key: str) -> str:
    return f"{config['prefix']}/{key}" if config.get("prefix") else key


def each_concurrently(work, pairs) -> None:
    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(work, *pair) for pair in pairs]:
            future.result()


def s3_download(config: dict, pairs: list[tuple[str, Path]]) -> None:
    """GET each key into its path, sixteen at a time."""
    client = s3_client(config)

    def get(key: str, path: Path) -> None:
        body = client.get_object(Bucket=config["bucket"], Key=full_key(config, key))["Body"]
        path.parent.mkdir(parents=True, exist_ok=True)
        with body, open(path, "wb") as out:
            for chunk in body.iter_chunks(CHUNK):
                out.write(chunk)

    each_concurrently(get, pairs)


def s3_upload(config: dict, pairs: list[tuple[Path, str]]) -> None:
    """PUT each file under its key, sixteen at a time."""
    client = s3_client(config)

    def put(path: Path, key: str) -> None:
        with open(path, "rb") as body:
            client.put_object(Bucket=config["bucket"], Key=full_key(config, key), Body=body)

    each_concurrently(put, pairs)


def copy_files(pairs: list[tuple[Path, Path]]) -> None:
    """Copy each file, sixteen at a time."""

    def copy(source: Path, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)

    each_concurrently(copy, pairs)


def hard_link_tree(source: Path, target: Path) -> None:
    subprocess.run(["cp", "-al", str(source), str(target)], check=True)
