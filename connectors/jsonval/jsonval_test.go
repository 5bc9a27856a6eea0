package jsonval

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestID(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		wantErr  bool
	}{
		{`8841`, "8841", false},
		{`"8841"`, "8841", false},
		{`" 8841 "`, "8841", false},
		{`null`, "", false},
		{`12345678901234567890`, "12345678901234567890", false},
		{`true`, "", true},
		{`{"a":1}`, "", true},
	} {
		var v struct{ ID ID }
		err := json.Unmarshal([]byte(`{"ID":`+tt.in+`}`), &v)
		if (err != nil) != tt.wantErr || string(v.ID) != tt.want {
			t.Errorf("%s → %q, %v; want %q (error %v)", tt.in, v.ID, err, tt.want, tt.wantErr)
		}
		var te *json.UnmarshalTypeError
		if err != nil && (!errors.As(err, &te) || te.Field != "ID") {
			t.Errorf("%s: error %v does not name the field", tt.in, err)
		}
	}
}

func TestNumber(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    float64
		wantErr bool
	}{
		{`4.5`, 4.5, false},
		{`"4.5"`, 4.5, false},
		{`"x"`, 0, true},
		{`[1]`, 0, true},
	} {
		var v struct{ N Number }
		err := json.Unmarshal([]byte(`{"N":`+tt.in+`}`), &v)
		if (err != nil) != tt.wantErr || float64(v.N) != tt.want {
			t.Errorf("%s → %v, %v; want %v (error %v)", tt.in, v.N, err, tt.want, tt.wantErr)
		}
	}
}
