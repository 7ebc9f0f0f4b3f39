import sys

from dicomrle.cli import main

sys.exit(main())
