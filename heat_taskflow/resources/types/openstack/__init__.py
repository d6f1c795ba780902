"""OpenStack resource types (OS::Nova::*, OS::Neutron::*, OS::Cinder::*) over resources.cloud."""
