"""AWS CDK stack of lsu-import (one per Chalice stage)."""
