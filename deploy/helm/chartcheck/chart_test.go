package chartcheck

import (
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

const chartDir = "../decnet"

// manifests holds the objects the chart renders.
type manifests struct {
	deployment appsv1.Deployment
	service    corev1.Service
	notes      string
}

// render renders the chart with values over values.yaml, the way
// `helm template` does for a release named decnet in namespace sensors.
func render(t *testing.T, values map[string]any) (manifests, error) {
	t.Helper()
	chrt, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	options := common.ReleaseOptions{Name: "decnet", Namespace: "sensors", Revision: 1, IsInstall: true}
	renderValues, err := util.ToRenderValues(chrt, values, options, common.DefaultCapabilities)
	if err != nil {
		t.Fatalf("build render values: %v", err)
	}
	files, err := engine.Render(chrt, renderValues)
	if err != nil {
		return manifests{}, err
	}

	var out manifests
	decode := func(name string, into any) {
		text, ok := files["decnet/templates/"+name]
		if !ok {
			t.Fatalf("template %s not rendered; rendered: %v", name, keys(files))
		}
		if err := yaml.UnmarshalStrict([]byte(text), into); err != nil {
			t.Fatalf("decode %s: %v\n%s", name, err, text)
		}
	}
	decode("deployment.yaml", &out.deployment)
	decode("service.yaml", &out.service)
	out.notes = files["decnet/templates/NOTES.txt"]
	return out, nil
}

func keys(m map[string]string) []string {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func TestChartLint(t *testing.T) {
	linter := lint.RunAll(chartDir, nil, "sensors")
	for _, message := range linter.Messages {
		t.Logf("lint: %s", message)
	}
	if linter.HighestSeverity >= support.WarningSev {
		t.Fatalf("lint severity = %d, want below warning (%d)", linter.HighestSeverity, support.WarningSev)
	}
}

func TestChartDefaults(t *testing.T) {
	out, err := render(t, nil)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	spec := out.deployment.Spec

	if got := replicas(out.deployment); got != 2 {
		t.Errorf("replicas = %d, want 2", got)
	}
	if spec.Strategy.RollingUpdate == nil || spec.Strategy.RollingUpdate.MaxUnavailable.IntValue() != 0 {
		t.Errorf("rollingUpdate = %+v, want maxUnavailable 0", spec.Strategy.RollingUpdate)
	}
	container := onlyContainer(t, out.deployment)
	checkSecurity(t, out.deployment)
	checkNoHostAccess(t, out.deployment)

	// Liveness must not follow the database: a restart does not bring
	// PostgreSQL back, it only adds back-off to the outage.
	if lp := container.LivenessProbe; lp == nil || lp.TCPSocket == nil || lp.TCPSocket.Port != intstr.FromString("api") || lp.HTTPGet != nil {
		t.Errorf("liveness probe = %+v, want a TCP check of the api port", lp)
	}
	for _, probe := range []struct {
		name  string
		probe *corev1.Probe
	}{
		{"readiness", container.ReadinessProbe},
	} {
		t.Run(probe.name, func(t *testing.T) {
			if probe.probe == nil || probe.probe.HTTPGet == nil {
				t.Fatalf("probe = %+v, want httpGet", probe.probe)
			}
			get := probe.probe.HTTPGet
			if get.Path != "/healthz" {
				t.Errorf("path = %q, want /healthz", get.Path)
			}
			if get.Scheme != corev1.URISchemeHTTPS {
				t.Errorf("scheme = %q, want HTTPS", get.Scheme)
			}
			if get.Port != intstr.FromString("api") {
				t.Errorf("port = %v, want the api port", get.Port.String())
			}
		})
	}

	wantArgs := []string{
		"server", "--data-dir=/data", "--ca-dir=/etc/decnet/ca", "--store=postgres",
		"--api-listen=0.0.0.0:8443", "--agent-listen=0.0.0.0:8444", "--bridge-listen=0.0.0.0:8444",
		"--metrics-listen=", "--log-format=json",
	}
	if !slices.Equal(container.Args, wantArgs) {
		t.Errorf("args = %q\nwant %q", container.Args, wantArgs)
	}
	checkSecretEnv(t, container, "DECNET_DATABASE_URL", "decnet-database", "url")
	checkSecretEnv(t, container, "DECNET_REDIS_URL", "decnet-redis", "url")
	for _, arg := range container.Args {
		// An argument would show the URL's password in the process list;
		// given both ways, decnet also rejects the pair as a conflict.
		if strings.HasPrefix(arg, "--redis-url") {
			t.Errorf("args contain %q, want the Redis URL only in the environment", arg)
		}
	}
	checkCAVolume(t, out.deployment, "decnet-ca")

	checkServicePorts(t, out.service, map[string]servicePort{
		"api":    {8443, corev1.ProtocolTCP},
		"enroll": {8444, corev1.ProtocolTCP},
		"bridge": {8444, corev1.ProtocolUDP},
	})
	if out.service.Spec.SessionAffinity != corev1.ServiceAffinityClientIP {
		t.Errorf("sessionAffinity = %q, want ClientIP", out.service.Spec.SessionAffinity)
	}
	if !strings.Contains(out.notes, "helm rollback decnet") {
		t.Errorf("NOTES.txt lacks the rollback step:\n%s", out.notes)
	}
	if !strings.Contains(out.notes, "serverNames is empty") {
		t.Errorf("NOTES.txt lacks the serverNames warning:\n%s", out.notes)
	}
}

func TestChartCustomValues(t *testing.T) {
	out, err := render(t, map[string]any{
		"replicaCount":    3,
		"image":           map[string]any{"repository": "registry.example/decnet", "tag": "1.2.3"},
		"database":        map[string]any{"existingSecret": "pg", "urlKey": "dsn"},
		"redis":           map[string]any{"existingSecret": "", "url": "redis://redis.sensors:6379/0"},
		"ca":              map[string]any{"existingSecret": "fleet-ca"},
		"serverNames":     []any{"decnet.example"},
		"advertiseBridge": []any{"bridge.example:9000"},
		"ports":           map[string]any{"api": 443, "enroll": 9001, "bridge": 9000},
		"metrics":         map[string]any{"enabled": true},
		"extraArgs":       []any{"--retention", "720h"},
	})
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	container := onlyContainer(t, out.deployment)

	if got := replicas(out.deployment); got != 3 {
		t.Errorf("replicas = %d, want 3", got)
	}
	if container.Image != "registry.example/decnet:1.2.3" {
		t.Errorf("image = %q, want registry.example/decnet:1.2.3", container.Image)
	}
	for _, arg := range []string{
		"--api-listen=0.0.0.0:443", "--agent-listen=0.0.0.0:9001", "--bridge-listen=0.0.0.0:9000",
		"--metrics-listen=0.0.0.0:9464",
		"--server-name=decnet.example", "--advertise-bridge=bridge.example:9000", "--retention", "720h",
	} {
		if !slices.Contains(container.Args, arg) {
			t.Errorf("args %q lack %q", container.Args, arg)
		}
	}
	checkSecretEnv(t, container, "DECNET_DATABASE_URL", "pg", "dsn")
	redisEnv := findEnv(container, "DECNET_REDIS_URL")
	if redisEnv == nil || redisEnv.Value != "redis://redis.sensors:6379/0" || redisEnv.ValueFrom != nil {
		t.Errorf("DECNET_REDIS_URL = %+v, want the plain value", redisEnv)
	}
	checkCAVolume(t, out.deployment, "fleet-ca")
	checkSecurity(t, out.deployment)
	checkNoHostAccess(t, out.deployment)

	checkServicePorts(t, out.service, map[string]servicePort{
		"api":    {443, corev1.ProtocolTCP},
		"enroll": {9001, corev1.ProtocolTCP},
		"bridge": {9000, corev1.ProtocolUDP},
	})
	if strings.Contains(out.notes, "serverNames is empty") {
		t.Errorf("NOTES.txt warns about serverNames although they are set")
	}
}

func TestChartSingleReplicaWithoutRedis(t *testing.T) {
	out, err := render(t, map[string]any{
		"replicaCount": 1,
		"redis":        map[string]any{"existingSecret": "", "url": ""},
	})
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	container := onlyContainer(t, out.deployment)
	for _, arg := range container.Args {
		if strings.HasPrefix(arg, "--redis-url") {
			t.Errorf("args contain %q without Redis configured", arg)
		}
	}
	if env := findEnv(container, "DECNET_REDIS_URL"); env != nil {
		t.Errorf("DECNET_REDIS_URL = %+v, want unset", env)
	}
}

func TestChartRejectsInvalidValues(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]any
		want   string
	}{
		{
			name:   "replicas without redis",
			values: map[string]any{"replicaCount": 2, "redis": map[string]any{"existingSecret": "", "url": ""}},
			want:   "needs redis.url or redis.existingSecret",
		},
		{
			name:   "no database secret",
			values: map[string]any{"database": map[string]any{"existingSecret": ""}},
			want:   "database.existingSecret is required",
		},
		{
			name:   "no ca secret",
			values: map[string]any{"ca": map[string]any{"existingSecret": ""}},
			want:   "ca.existingSecret is required",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := render(t, tt.values)
			if err == nil {
				t.Fatalf("render succeeded, want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("render error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// replicas returns the replica count, or -1 when the manifest omits it.
func replicas(deployment appsv1.Deployment) int32 {
	if deployment.Spec.Replicas == nil {
		return -1
	}
	return *deployment.Spec.Replicas
}

func onlyContainer(t *testing.T, deployment appsv1.Deployment) corev1.Container {
	t.Helper()
	containers := deployment.Spec.Template.Spec.Containers
	if len(containers) != 1 {
		t.Fatalf("containers = %d, want 1", len(containers))
	}
	return containers[0]
}

func checkSecurity(t *testing.T, deployment appsv1.Deployment) {
	t.Helper()
	pod := deployment.Spec.Template.Spec
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Errorf("pod securityContext = %+v, want runAsNonRoot", pod.SecurityContext)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("automountServiceAccountToken = %v, want false", pod.AutomountServiceAccountToken)
	}

	sc := pod.Containers[0].SecurityContext
	if sc == nil {
		t.Fatal("container securityContext missing")
	}
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Error("container runAsNonRoot is not true")
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("container readOnlyRootFilesystem is not true")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("container allowPrivilegeEscalation is not false")
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 {
		t.Errorf("capabilities = %+v, want drop [ALL] and no add", sc.Capabilities)
	}
}

func checkNoHostAccess(t *testing.T, deployment appsv1.Deployment) {
	t.Helper()
	pod := deployment.Spec.Template.Spec
	if pod.HostNetwork || pod.HostPID || pod.HostIPC {
		t.Errorf("pod shares a host namespace: network %v, pid %v, ipc %v", pod.HostNetwork, pod.HostPID, pod.HostIPC)
	}
	for _, volume := range pod.Volumes {
		if volume.HostPath != nil {
			t.Errorf("volume %s is a hostPath", volume.Name)
		}
	}
	for _, port := range pod.Containers[0].Ports {
		if port.HostPort != 0 {
			t.Errorf("port %s has hostPort %d", port.Name, port.HostPort)
		}
	}
}

func findEnv(container corev1.Container, name string) *corev1.EnvVar {
	for i := range container.Env {
		if container.Env[i].Name == name {
			return &container.Env[i]
		}
	}
	return nil
}

func checkSecretEnv(t *testing.T, container corev1.Container, name, secret, key string) {
	t.Helper()
	env := findEnv(container, name)
	if env == nil {
		t.Errorf("env %s missing", name)
		return
	}
	if env.Value != "" {
		t.Errorf("env %s has a literal value, want a secretKeyRef", name)
	}
	if env.ValueFrom == nil || env.ValueFrom.SecretKeyRef == nil {
		t.Errorf("env %s = %+v, want a secretKeyRef", name, env)
		return
	}
	ref := env.ValueFrom.SecretKeyRef
	if ref.Name != secret || ref.Key != key {
		t.Errorf("env %s refers to secret %s key %s, want %s key %s", name, ref.Name, ref.Key, secret, key)
	}
}

func checkCAVolume(t *testing.T, deployment appsv1.Deployment, secret string) {
	t.Helper()
	pod := deployment.Spec.Template.Spec
	var volumeName string
	for _, volume := range pod.Volumes {
		if volume.Secret != nil && volume.Secret.SecretName == secret {
			volumeName = volume.Name
		}
	}
	if volumeName == "" {
		t.Fatalf("no volume from secret %s in %+v", secret, pod.Volumes)
	}
	for _, mount := range pod.Containers[0].VolumeMounts {
		if mount.Name != volumeName {
			continue
		}
		if mount.MountPath != "/etc/decnet/ca" || !mount.ReadOnly {
			t.Errorf("CA mount = %+v, want read-only at /etc/decnet/ca", mount)
		}
		return
	}
	t.Errorf("volume %s is not mounted", volumeName)
}

type servicePort struct {
	port     int32
	protocol corev1.Protocol
}

func checkServicePorts(t *testing.T, service corev1.Service, want map[string]servicePort) {
	t.Helper()
	got := map[string]servicePort{}
	for _, port := range service.Spec.Ports {
		got[port.Name] = servicePort{port.Port, port.Protocol}
		if port.TargetPort != intstr.FromString(port.Name) {
			t.Errorf("service port %s targets %s, want the container port of the same name", port.Name, port.TargetPort.String())
		}
	}
	if len(got) != len(want) {
		t.Errorf("service ports = %v, want %v", got, want)
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("service port %s = %+v, want %+v", name, got[name], w)
		}
	}
}
