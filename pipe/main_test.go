package pipe_test

import (
	"os"
	"testing"

	"github.com/netloop/netloop/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(testutil.LeakCheckMain(m)) }
