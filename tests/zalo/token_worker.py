"""One Zalo API client in its own OS process, for the tests of refreshes shared between
processes: waits until --start-at, sends one message, prints the token it ended with."""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from bot.channels.zalo_api import ZaloApiClient, ZaloApiError
from tests.zalo.fake_zalo import APP_ID, APP_SECRET


async def run(args: argparse.Namespace) -> dict[str, object]:
    """Send one message at the agreed time; report the outcome."""
    client = ZaloApiClient(
        app_id=APP_ID,
        app_secret=APP_SECRET,
        access_token="AT-1",
        refresh_token="RT-1",
        token_store=args.store or None,
        redis_url=args.redis or None,
        redis_prefix=args.prefix,
        api_base=args.api,
        oauth_base=args.api,
        backoff=0.01,
    )
    await asyncio.sleep(max(args.start_at - time.time(), 0))
    error = ""
    try:
        await client.send_message(args.user, {"text": f"from {args.user}"})
    except ZaloApiError as e:
        error = str(e)
    result = {
        "token": client.tokens.store.pair.access_token,
        "refreshes": client.tokens.refresh_count,
        "error": error,
    }
    await client.close()
    return result


def main() -> None:
    """Parse the options and print the JSON result."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--start-at", type=float, required=True)
    parser.add_argument("--store", default="")
    parser.add_argument("--redis", default="")
    parser.add_argument("--prefix", default="zalo:")
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()
