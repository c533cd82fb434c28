from bench.tokens.run import main

raise SystemExit(main())
