from bench.policy.run import main

raise SystemExit(main())
