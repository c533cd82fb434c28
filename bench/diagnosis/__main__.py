from bench.diagnosis.run import main

raise SystemExit(main())
