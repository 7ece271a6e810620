from aicenter_client.cli import main

main()
