"""`python -m agent.classify.training`: train and export the shipped model."""

import sys

from agent.classify.training.train import main

sys.exit(main())
