from bench.metrics.run import main

raise SystemExit(main())
